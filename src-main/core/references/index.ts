export { DEFAULT_LIMITS, FetchError, fetchLimited, userAgent, type FetchLimits } from './http.js';
export { REFERENCES_FOLDER, ReferenceImporter, type Attribution } from './import.js';
export { readPage } from './page.js';
export { UnsplashClient } from './unsplash.js';
