import { EKU, exportPrivateKeyPkcs8Der, generateKeyPair, importPrivateKey, parseDn, randomSerial, signCertificate, type Signer } from '@certbridge/pki';
import type { Kysely } from 'kysely';
import type { CaKeyStore } from '../cas/ca-keys.ts';
import type { Clock } from '../clock.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { CaRow, Database } from '../db/schema.ts';

/** id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): relying parties need not check the responder's own status. */
const OCSP_NOCHECK = { oid: '1.3.6.1.5.5.7.48.1.5', critical: false, valueDer: new Uint8Array([0x05, 0x00]) };
export const RESPONDER_VALIDITY_MS = 30 * 86_400_000;
const RENEW_BEFORE_MS = 7 * 86_400_000;

export type OcspSigning = 'ca' | 'delegated';

/** Which key signs a CA's OCSP answers: its own, or a delegated responder (CA setting `ocspSigning`). */
export function ocspSigningMode(ca: CaRow): OcspSigning {
  return ca.settings['ocspSigning'] === 'delegated' ? 'delegated' : 'ca';
}

/**
 * The delegated OCSP responder of a CA (RFC 6960 section 4.2.2.2): a short-lived certificate with
 * the id-kp-OCSPSigning EKU and ocsp-nocheck, issued by the CA itself, key sealed in `settings`.
 * Renewed a week before it expires, so the CA key is used once a month instead of per answer.
 */
export function createOcspResponderStore(deps: { db: Kysely<Database>; keys: CaKeyStore; sealer: Sealer; clock: Clock }) {
  const cache = new Map<string, { signer: Signer; notAfter: number }>();
  const settingKey = (caId: string) => `ocsp-responder:${caId}`;

  async function issue(ca: CaRow): Promise<{ signer: Signer; notAfter: number }> {
    const now = deps.clock.now().getTime();
    const pair = generateKeyPair('EC-P256');
    const notAfter = Math.min(now + RESPONDER_VALIDITY_MS, ca.not_after?.getTime() ?? Infinity);
    const der = signCertificate({
      serialNumber: randomSerial(), subject: parseDn(`CN=OCSP Responder for ${ca.name.replace(/[,+"\\<>;=]/g, ' ')}`),
      spkiDer: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })), notBefore: new Date(now - 60_000), notAfter: new Date(notAfter),
      keyUsages: ['digitalSignature'], extendedKeyUsages: [EKU.ocspSigning], extraExtensions: [OCSP_NOCHECK],
    }, await deps.keys.signer(ca));
    const sealed = deps.sealer.seal(exportPrivateKeyPkcs8Der(pair.privateKey), settingKey(ca.id));
    const value = JSON.stringify({ certificate: Buffer.from(der).toString('base64'), notAfter: new Date(notAfter).toISOString() });
    await deps.db.insertInto('settings').values({ key: settingKey(ca.id), value, sealed })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, sealed })).execute();
    return { signer: { certificateDer: der, privateKey: pair.privateKey }, notAfter };
  }

  return {
    async signer(ca: CaRow): Promise<Signer> {
      const now = deps.clock.now().getTime();
      let entry = cache.get(ca.id);
      if (!entry) {
        const row = await deps.db.selectFrom('settings').selectAll().where('key', '=', settingKey(ca.id)).executeTakeFirst();
        if (row?.sealed) {
          entry = {
            signer: { certificateDer: new Uint8Array(Buffer.from(String(row.value['certificate']), 'base64')), privateKey: importPrivateKey(deps.sealer.open(row.sealed, settingKey(ca.id))) },
            notAfter: new Date(String(row.value['notAfter'])).getTime(),
          };
        }
      }
      if (!entry || entry.notAfter - now < RENEW_BEFORE_MS) entry = await issue(ca);
      cache.set(ca.id, entry);
      return entry.signer;
    },
  };
}

export type OcspResponderStore = ReturnType<typeof createOcspResponderStore>;
