/**
 * One place that binds @peculiar/x509 to Node's WebCrypto, plus the key and name helpers the
 * CA modules share.
 */
import 'reflect-metadata';
import { webcrypto, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509 };
export const crypto = webcrypto;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type CryptoKey = webcrypto.CryptoKey;

/** ADCS signs with RSA PKCS#1 v1.5 / SHA-256 by default (CSP "Microsoft Software Key Storage Provider"). */
export const rsaAlgorithm = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;

export async function generateRsaKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(rsaAlgorithm, true, ['sign', 'verify']);
}

export async function exportKeyPair(keys: CryptoKeyPair): Promise<{ privateKey: string; publicKey: string }> {
  const priv = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  const pub = await crypto.subtle.exportKey('spki', keys.publicKey);
  return { privateKey: Buffer.from(priv).toString('base64'), publicKey: Buffer.from(pub).toString('base64') };
}

export async function importKeyPair(stored: { privateKey: string; publicKey: string }): Promise<CryptoKeyPair> {
  const alg = { name: rsaAlgorithm.name, hash: rsaAlgorithm.hash };
  const privateKey = await crypto.subtle.importKey('pkcs8', Buffer.from(stored.privateKey, 'base64'), alg, true, ['sign']);
  const publicKey = await crypto.subtle.importKey('spki', Buffer.from(stored.publicKey, 'base64'), alg, true, ['verify']);
  return { privateKey, publicKey };
}

/** A positive serial number of `bytes` random bytes, hex (RFC 5280 4.1.2.2: at most 20 octets). */
export function randomSerial(bytes = 16): string {
  const b = randomBytes(bytes);
  b[0] = (b[0] & 0x7f) | 0x10;
  return b.toString('hex');
}

/** `corp.example.test` → `DC=corp, DC=example, DC=test` ordering used by AD-integrated CAs. */
export function domainComponents(dnsDomain: string): string {
  return dnsDomain
    .split('.')
    .filter(Boolean)
    .map((p) => `DC=${p}`)
    .join(', ');
}

/** PEM with CRLF line endings and 64-column base64, the way Windows CryptBinaryToString writes it. */
export function pem(der: ArrayBuffer | Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\r\n${lines.join('\r\n')}\r\n-----END ${label}-----\r\n`;
}
