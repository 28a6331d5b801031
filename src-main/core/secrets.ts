/**
 * Secrets (API keys, tokens) live here, never in the catalogue: the catalogue is copied, backed up
 * and read by other tools, and SQLite makes it readable by everyone on the machine. They are kept
 * in `<dataDir>/secrets.json`, readable by the user alone (0600), written to a temporary name and
 * renamed so it is never half-written. Where the Electron app can use the system keychain
 * (Electron's safeStorage), each value is sealed with it; the command line and the browser host
 * run under plain Node and store values as they are, protected by the file's mode.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from './api/index.js';
import type { CatalogDb } from './catalog/index.js';
import { tempPathFor } from './util/index.js';

/** Seals and unseals values with a key this process holds (the Electron host passes safeStorage's). */
export interface SecretCodec {
  /** How sealed values are marked in the file; a value is unsealed only by a codec of the same name. */
  readonly name: string;
  encrypt(plain: string): Buffer;
  decrypt(sealed: Buffer): string;
}

/** The secrets Onbrand keeps, by name, with the words a user reads. */
export const SECRET_LABELS = {
  'unsplash.key': 'Unsplash access key',
  'llm.apiKey': 'language model API key',
  'hf.token': 'Hugging Face token',
  'backend.headers': 'ComfyUI backend headers',
} as const;
export type SecretName = keyof typeof SECRET_LABELS;

interface Entry {
  /** 'plain', or the name of the codec that sealed `value` (base64). */
  encoding: string;
  value: string;
}
type Entries = Record<string, Entry>;

export const SECRETS_FILE = 'secrets.json';
const PRIVATE_FILE = 0o600;
const POSIX = process.platform !== 'win32';

export class SecretStore {
  readonly file: string;
  /** The file as last read, kept while its identity and time stamp stay the same (another process may write it). */
  private cache: { stamp: string; entries: Entries } | null = null;

  constructor(
    dataDir: string,
    private readonly codec: SecretCodec | null = null,
  ) {
    this.file = path.join(dataDir, SECRETS_FILE);
  }

  /**
   * The secret's value, or null when none is stored. Throws an ApiError when one is stored but this
   * process cannot read it (sealed by the app's keychain, or a damaged file), saying what to do.
   */
  get(name: SecretName): string | null {
    const entry = this.read()[name];
    if (!entry) return null;
    if (entry.encoding === 'plain') return entry.value;
    const label = SECRET_LABELS[name];
    if (!this.codec || this.codec.name !== entry.encoding) {
      throw new ApiError(
        'io',
        `The ${label} was saved by the Onbrand app, sealed with the system keychain (${entry.encoding}), which this process cannot use; set it again here to use it here too.`,
      );
    }
    try {
      return this.codec.decrypt(Buffer.from(entry.value, 'base64'));
    } catch (error) {
      throw new ApiError('io', `The ${label} cannot be unsealed by the system keychain (${(error as Error).message}); set it again.`);
    }
  }

  /** Whether a value is stored, readable here or not. */
  has(name: SecretName): boolean {
    try {
      return !!this.read()[name];
    } catch {
      return false;
    }
  }

  /** Stores (or, with null or '', removes) a secret. */
  set(name: SecretName, value: string | null): void {
    let entries: Entries;
    try {
      entries = { ...this.read() };
    } catch {
      // A damaged file is kept beside the new one, never overwritten: it may hold the only copy of a key.
      if (fs.existsSync(this.file)) fs.renameSync(this.file, `${this.file}.damaged-${Date.now()}`);
      entries = {};
    }
    if (!value) delete entries[name];
    else if (this.codec) entries[name] = { encoding: this.codec.name, value: this.codec.encrypt(value).toString('base64') };
    else entries[name] = { encoding: 'plain', value };
    this.write(entries);
  }

  private read(): Entries {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new ApiError('io', `${this.file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
    }
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (this.cache?.stamp === stamp) return this.cache.entries;
    // A copy restored from a backup may have lost its mode: the user alone may read it.
    if (POSIX && stat.mode & 0o077) fs.chmodSync(this.file, PRIVATE_FILE);
    let entries: Entries;
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { secrets?: unknown };
      if (!parsed.secrets || typeof parsed.secrets !== 'object') throw new Error('no "secrets" object');
      entries = Object.fromEntries(
        Object.entries(parsed.secrets as Record<string, Partial<Entry>>).filter(
          ([, e]) => typeof e?.encoding === 'string' && typeof e.value === 'string',
        ),
      ) as Entries;
    } catch (error) {
      throw new ApiError(
        'io',
        `${this.file} is damaged (${(error as Error).message}); set your keys again and it is replaced (the damaged copy is kept beside it).`,
      );
    }
    this.cache = { stamp, entries };
    return entries;
  }

  /** Temporary file created 0600 (never readable by others, not even for a moment), flushed, renamed into place. */
  private write(entries: Entries): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temp = tempPathFor(this.file);
    try {
      const fd = fs.openSync(temp, 'wx', PRIVATE_FILE);
      try {
        if (POSIX) fs.fchmodSync(fd, PRIVATE_FILE); // the umask can only take bits away, but say it plainly
        fs.writeFileSync(fd, `${JSON.stringify({ version: 1, secrets: entries }, null, 2)}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, this.file);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw new ApiError(
        'io',
        `The keys cannot be saved in ${this.file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
      );
    }
    const mode = fs.statSync(this.file).mode & 0o777;
    if (POSIX && mode !== PRIVATE_FILE)
      throw new ApiError(
        'io',
        `${this.file} has mode ${mode.toString(8)}, not 600: others could read your keys; check the folder's file system.`,
      );
    this.cache = null;
  }
}

/** Settings rows of older versions that held a secret, and where it goes. */
const PLAIN_ROWS: readonly { row: string; field?: string; secret: SecretName }[] = [
  { row: 'unsplash.key', secret: 'unsplash.key' },
  { row: 'hf.token', secret: 'hf.token' },
  { row: 'llm', field: 'apiKey', secret: 'llm.apiKey' },
];

/**
 * Moves keys that older versions kept in the catalogue's app_settings into the secret store, then
 * removes them from the catalogue: the store is written first, so a crash in between only repeats
 * the move at the next start. The catalogue's rows are rewritten with SQLite's secure delete and
 * the log is checkpointed, so the key's bytes leave the catalogue's files, not just its tables.
 * Returns the names moved.
 */
export function moveSecretsOutOfCatalogue(db: CatalogDb, secrets: SecretStore): SecretName[] {
  const moved: SecretName[] = [];
  const read = db.prepare('SELECT value FROM app_settings WHERE key = ?');
  const found: { row: string; field?: string; secret: SecretName; stored: unknown }[] = [];
  for (const entry of PLAIN_ROWS) {
    const raw = (read.get(entry.row) as { value: string } | undefined)?.value;
    if (raw === undefined) continue;
    let stored: unknown;
    try {
      stored = JSON.parse(raw);
    } catch {
      continue;
    }
    if (entry.field && (stored === null || typeof stored !== 'object' || !(entry.field in stored))) continue;
    const value = entry.field ? (stored as Record<string, unknown>)[entry.field] : stored;
    // A value found here was written after the last move (by an older Onbrand): it is the newest.
    if (typeof value === 'string' && value) {
      secrets.set(entry.secret, value);
      moved.push(entry.secret);
    }
    found.push({ ...entry, stored });
  }
  if (found.length === 0) return moved;
  const secureDelete = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  try {
    db.transaction(() => {
      for (const { row, field, stored } of found) {
        if (!field) db.prepare('DELETE FROM app_settings WHERE key = ?').run(row);
        else {
          const rest = { ...(stored as Record<string, unknown>) };
          delete rest[field];
          db.prepare('UPDATE app_settings SET value = ? WHERE key = ?').run(JSON.stringify(rest), row);
        }
      }
    })();
  } finally {
    db.pragma(`secure_delete = ${secureDelete ? 'ON' : 'OFF'}`);
  }
  // Best effort: while another process reads the catalogue the log stays; SQLite removes it when the last connection closes.
  db.pragma('wal_checkpoint(TRUNCATE)');
  return moved;
}
