export { internalRange } from './addresses.js';
export { DEFAULT_LIMITS, FetchError, fetchLimited, PAGE_LIMIT, userAgent, type FetchLimits, type FetchOptions } from './http.js';
export { REFERENCES_FOLDER, ReferenceImporter, type Attribution } from './import.js';
export { readPage } from './page.js';
export { UnsplashClient } from './unsplash.js';
export { describeReferenceSources, referenceSource, type ReferenceSource } from './source.js';
