import type { KeyObject } from 'node:crypto';
import { importPrivateKey, type Signer } from '@certbridge/pki';
import type { Sealer } from '../crypto/sealer.ts';
import type { CaRow } from '../db/schema.ts';

/** Context string binding a sealed CA key to its CA row (see crypto/sealer.ts). */
export const caKeyContext = (caId: string): string => `ca-key:${caId}`;

/** Where relying parties fetch this CA's certificate, CRL and OCSP answers (SPEC endpoints). */
export function pkiUrls(pkiUrl: string, caId: string) {
  return { caIssuers: `${pkiUrl}/ca/${caId}.crt`, crl: `${pkiUrl}/crl/${caId}.crl`, ocsp: `${pkiUrl}/ocsp/${caId}` };
}

/**
 * Opens sealed CA keys and keeps them as KeyObjects for the life of the process: unsealing
 * on every signature would cost more than the signature. CA keys never change for a CA id.
 */
export function createCaKeyStore(sealer: Sealer) {
  const cache = new Map<string, KeyObject>();
  return {
    async signer(ca: CaRow): Promise<Signer> {
      if (!ca.certificate_der || !ca.private_key_sealed) throw new Error(`CA ${ca.name} has no signing key`);
      let key = cache.get(ca.id);
      if (!key) {
        key = importPrivateKey(sealer.open(ca.private_key_sealed, caKeyContext(ca.id)));
        cache.set(ca.id, key);
      }
      return { certificateDer: ca.certificate_der, privateKey: key };
    },
    seal(caId: string, pkcs8Der: Uint8Array): string {
      return sealer.seal(pkcs8Der, caKeyContext(caId));
    },
  };
}

export type CaKeyStore = ReturnType<typeof createCaKeyStore>;
