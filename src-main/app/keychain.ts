/**
 * The system keychain for stored keys (core/secrets.ts): Electron's safeStorage, where it really
 * encrypts. Linux without a keyring gives "basic_text", a fixed key that only pretends to seal; the
 * keys then stay in the private 0600 file as they are, which the command line can read too.
 */
import { safeStorage } from 'electron';
import type { SecretCodec } from '../core/secrets.js';

/** Call after the app is ready (before that, safeStorage reports no encryption on Linux and Windows). */
export function keychainCodec(): SecretCodec | null {
  if (!safeStorage.isEncryptionAvailable()) return null;
  if (process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') return null;
  return {
    name: 'safeStorage',
    // The synchronous calls: settings are read synchronously, and a key is a few bytes.
    encrypt: (plain) => safeStorage.encryptString(plain),
    decrypt: (sealed) => safeStorage.decryptString(sealed),
  };
}
