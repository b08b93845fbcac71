import type { Ca } from '../types.ts';
import { parseCertificate } from '../x509.ts';

/** The server's rule for CA names (ca-routes.ts, adcs-routes.ts). */
export const CA_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;
export const CA_NAME_HINT = 'Letters, digits, space, . _ -; up to 100.';

/** ADCS reached directly or through an on-prem connector: servers and templates, no CRL here. */
export const isAdcsLike = (c: Ca): boolean => c.type === 'adcs' || c.type === 'connector';

/** Root or intermediate: an internal CA without a parent here may still be signed elsewhere (ADCS, imported). */
export function caKind(c: Ca): string {
  if (c.type === 'adcs') return 'ADCS';
  if (c.type === 'connector') return 'ADCS via connector';
  if (c.parentId) return 'Intermediate';
  try {
    const parsed = c.certificate ? parseCertificate(c.certificate) : null;
    return parsed && parsed.subject !== parsed.issuer ? 'Intermediate' : 'Root';
  } catch {
    return 'Root';
  }
}
