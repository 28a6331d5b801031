/** The catalogue was written by a newer Onbrand; opening it here could damage it. */
export class CatalogFromFutureError extends Error {
  constructor(
    readonly path: string,
    readonly fileVersion: number,
    readonly appVersion: number,
  ) {
    super(
      `The catalogue ${path} is at schema version ${fileVersion}, newer than this Onbrand understands (${appVersion}). ` +
        'Update Onbrand to open it; the file was left untouched.',
    );
    this.name = 'CatalogFromFutureError';
  }
}

/** The catalogue file exists but is not a readable SQLite database (or fails its integrity check). */
export class CatalogCorruptError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(
      `The catalogue ${path} cannot be read (${detail}). It was left untouched: move it aside (or restore a backup) and start Onbrand again.`,
    );
    this.name = 'CatalogCorruptError';
  }
}
