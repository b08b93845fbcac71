import { createPrivateKey, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { pemDecodeAll } from '@certbridge/pki';
import { AppError } from '../../errors.ts';
import { AZURE_CONNECTION_TYPES } from './azure-tables.ts';
import { isTimeZone, TIME_OF_DAY } from './rotation-schedule.ts';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** A tenant id (GUID) or a verified domain such as `contoso.onmicrosoft.com`. */
const tenant = z.string().max(255).refine((t) => GUID.test(t) || /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(t), 'must be a tenant id (GUID) or domain');
const httpsUrl = z.string().max(2000).refine((u) => u.startsWith('https://'), 'must be an https:// URL');
const pem = z.string().max(200_000);

export const azureCloudFields = {
  authorityHost: httpsUrl.optional(),
  caPem: pem.nullable().optional(),
  graphUrl: httpsUrl.optional(),
  vaultUrlTemplate: httpsUrl.optional(),
  /** Default vault of a key-vault connection: a vault name, or its https URL. */
  vaultName: z.string().min(3).max(2000).nullable().optional(),
};

export const azureCreateSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/),
  type: z.enum(AZURE_CONNECTION_TYPES),
  method: z.enum(['client-secret', 'certificate']),
  tenantId: tenant,
  clientId: z.string().regex(GUID, 'must be an application (client) id GUID'),
  clientSecret: z.string().min(1).max(1000).optional(),
  certificatePem: pem.optional(),
  privateKeyPem: pem.optional(),
  ...azureCloudFields,
}).strict();
export type AzureCreateInput = z.infer<typeof azureCreateSchema>;

export const rotationSchema = z.object({
  enabled: z.boolean(),
  /** keyId of the secret the connection holds now: removed once the first new one works. */
  keyId: z.string().regex(GUID, 'must be the keyId (GUID) of the current client secret').optional(),
  intervalDays: z.number().int().min(1).max(365).optional(),
  time: z.string().regex(TIME_OF_DAY, 'must be HH:MM (24-hour local time)').optional(),
  timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').optional(),
}).strict();
export type RotationInput = z.infer<typeof rotationSchema>;

export const azureUpdateSchema = z.object({
  tenantId: tenant.optional(),
  clientId: z.string().regex(GUID).optional(),
  clientSecret: z.string().min(1).max(1000).optional(),
  certificatePem: pem.optional(),
  privateKeyPem: pem.optional(),
  rotation: rotationSchema.optional(),
  ...azureCloudFields,
}).strict();
export type AzureUpdateInput = z.infer<typeof azureUpdateSchema>;

export const oauthStartSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/),
  type: z.enum(AZURE_CONNECTION_TYPES),
  /** Without it the user signs in to their own organisation (`organizations`). */
  tenantId: tenant.optional(),
  loginHint: z.string().max(255).optional(),
  /** A path on this server the browser is sent to after the callback (the UI's connections page). */
  returnTo: z.string().max(500).regex(/^\/(?!\/)[^\s\\]*$/, 'must be a path on this server').optional(),
  ...azureCloudFields,
}).strict();
export type OauthStartInput = z.infer<typeof oauthStartSchema>;

export function checkCaPem(caPem: string | null | undefined): void {
  if (!caPem) return;
  try {
    if (pemDecodeAll(caPem, 'CERTIFICATE').length === 0) throw new Error('no CERTIFICATE block');
  } catch (err) {
    throw new AppError('VALIDATION_FAILED', `caPem is not a PEM certificate bundle: ${err instanceof Error ? err.message : String(err)}`, { field: 'caPem' });
  }
}

/**
 * Checks a client-assertion certificate and its key: a PEM certificate, an RSA private key
 * (Entra signs assertions with RS256/PS256) that matches it. Returns the key as PKCS#8 PEM.
 */
export function checkCertificate(certificatePem: string, privateKeyPem: string): { certificatePem: string; keyPem: string; cert: X509Certificate } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch {
    throw new AppError('VALIDATION_FAILED', 'certificatePem is not a PEM certificate', { field: 'certificatePem' });
  }
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new AppError('VALIDATION_FAILED', 'privateKeyPem is not an unencrypted PEM private key', { field: 'privateKeyPem' });
  }
  if (key.asymmetricKeyType !== 'rsa') throw new AppError('VALIDATION_FAILED', `the key is ${key.asymmetricKeyType}; Entra client assertions need an RSA key`, { field: 'privateKeyPem' });
  if (!cert.checkPrivateKey(key)) throw new AppError('VALIDATION_FAILED', 'privateKeyPem does not belong to certificatePem', { field: 'privateKeyPem' });
  return { certificatePem: cert.toString(), keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(), cert };
}
