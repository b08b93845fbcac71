import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Seals secrets at rest with AES-256-GCM: a fresh 96-bit nonce per record, and the key id in the
 * sealed text so a later key rotation can tell which key opens which record.
 * Format: `v1.<kid>.<nonce b64url>.<ciphertext b64url>.<tag b64url>`; the associated data binds
 * the record to its purpose (e.g. "ca-key:<caId>"), so a sealed value cannot be moved to another row.
 */
export interface Sealer {
  readonly keyId: string;
  seal(plaintext: Uint8Array | string, context: string): string;
  open(sealed: string, context: string): Buffer;
  openText(sealed: string, context: string): string;
}

export class SealError extends Error {}

export function createSealer(masterKey: Uint8Array): Sealer {
  if (masterKey.length !== 32) throw new SealError('the master key must be 32 bytes');
  const key = Buffer.from(masterKey);
  // The key id is a fingerprint of the key itself: stable, and reveals nothing useful.
  const keyId = createHash('sha256').update('certbridge-kid').update(key).digest('base64url').slice(0, 8);
  const seal = (plaintext: Uint8Array | string, context: string): string => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const ct = Buffer.concat([cipher.update(data), cipher.final()]);
    return ['v1', keyId, nonce.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  };
  const open = (sealed: string, context: string): Buffer => {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1') throw new SealError('not a sealed value');
    const [, kid, nonce, ct, tag] = parts as [string, string, string, string, string];
    if (kid !== keyId) throw new SealError(`sealed with key ${kid}, which is not the current master key`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
    } catch (cause) {
      throw new SealError('sealed value failed authentication (wrong key, context or tampered data)', { cause });
    }
  };
  return { keyId, seal, open, openText: (s, c) => open(s, c).toString('utf8') };
}

/**
 * The master key from `CERTBRIDGE_MASTER_KEY` (base64, 32 bytes), else `<dataDir>/master.key`,
 * created with mode 0600 on first start (SPEC "Configuration").
 */
export async function loadMasterKey(configured: string | undefined, dataDir: string): Promise<Buffer> {
  if (configured) {
    const key = Buffer.from(configured, 'base64');
    if (key.length !== 32) throw new SealError('CERTBRIDGE_MASTER_KEY must be base64 of exactly 32 bytes');
    return key;
  }
  const file = path.join(dataDir, 'master.key');
  try {
    const key = Buffer.from((await fs.readFile(file, 'utf8')).trim(), 'base64');
    if (key.length !== 32) throw new SealError(`${file} does not hold a base64 32-byte key`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // 'wx' fails if a second process created it meanwhile; then read theirs.
  try {
    await fs.writeFile(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return Buffer.from((await fs.readFile(file, 'utf8')).trim(), 'base64');
  }
}
