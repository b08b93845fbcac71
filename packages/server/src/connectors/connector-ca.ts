import { createHash, X509Certificate } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  exportPrivateKeyPkcs8Der, generateKeyPair, importPrivateKey, parseDn, pemEncode, randomSerial, signCertificate, spkiOf,
} from '@certbridge/pki';
import type { Clock } from '../clock.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { Database } from '../db/schema.ts';

const SETTING = 'connector-ca';
const DAY_MS = 86_400_000;
export const CONNECTOR_CA_NAME = 'Certbridge Connector CA';
/** Connector client certificates live 90 days; the connector renews them (issue 7). */
export const CONNECTOR_CERT_DAYS = 90;

/** SHA-256 of a DER certificate, lowercase hex: what a registration token pins. */
export const fingerprintOf = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');

/**
 * The dedicated "Certbridge Connector CA": self-signed, created on first use, key sealed in the
 * settings table. It signs only connector client certificates, so a certificate it issued is a
 * connector credential and nothing else (no profile can issue from it: it is not a `cas` row).
 */
export function createConnectorCa(deps: { db: Kysely<Database>; sealer: Sealer; clock: Clock }) {
  const { db, sealer, clock } = deps;
  let cached: { certDer: Uint8Array; key: ReturnType<typeof importPrivateKey> } | undefined;

  async function load() {
    if (cached) return cached;
    const row = await db.selectFrom('settings').selectAll().where('key', '=', SETTING).executeTakeFirst();
    if (row?.sealed) {
      cached = { certDer: new Uint8Array(Buffer.from(String(row.value['certificate']), 'base64')), key: importPrivateKey(sealer.open(row.sealed, SETTING)) };
      return cached;
    }
    const pair = generateKeyPair('EC-P256');
    const now = clock.now();
    const certDer = signCertificate({
      serialNumber: randomSerial(), subject: parseDn(`CN=${CONNECTOR_CA_NAME}, O=Certbridge`), spkiDer: spkiOf(pair.publicKey),
      notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 3650 * DAY_MS), keyUsages: ['keyCertSign', 'cRLSign'], ca: { pathLength: 0 },
    }, { selfSigned: pair.privateKey });
    const value = JSON.stringify({ certificate: Buffer.from(certDer).toString('base64') });
    const sealed = sealer.seal(exportPrivateKeyPkcs8Der(pair.privateKey), SETTING);
    // Two instances may race on first use: the first insert wins and both read it back.
    await db.insertInto('settings').values({ key: SETTING, value, sealed }).onConflict((oc) => oc.column('key').doNothing()).execute();
    cached = undefined;
    const stored = await db.selectFrom('settings').selectAll().where('key', '=', SETTING).executeTakeFirstOrThrow();
    cached = { certDer: new Uint8Array(Buffer.from(String(stored.value['certificate']), 'base64')), key: importPrivateKey(sealer.open(stored.sealed!, SETTING)) };
    return cached;
  }

  return {
    certificatePem: async () => pemEncode('CERTIFICATE', (await load()).certDer),
    /** Signs a connector's client certificate (CN = connector id, clientAuth only). */
    async issue(connectorId: string, spkiDer: Uint8Array): Promise<{ der: Uint8Array; serialHex: string; notAfter: Date }> {
      const ca = await load();
      const now = clock.now();
      const serial = randomSerial();
      const notAfter = new Date(now.getTime() + CONNECTOR_CERT_DAYS * DAY_MS);
      const der = signCertificate({
        serialNumber: serial, subject: parseDn(`CN=${connectorId}, O=Certbridge connector`), spkiDer,
        notBefore: new Date(now.getTime() - 60_000), notAfter, keyUsages: ['digitalSignature'], extendedKeyUsages: ['1.3.6.1.5.5.7.3.2'],
      }, { certificateDer: ca.certDer, privateKey: ca.key });
      return { der, serialHex: new X509Certificate(der).serialNumber.toLowerCase(), notAfter };
    },
    /** The connector id of a client certificate this CA issued and that is valid now; undefined otherwise. */
    async verify(der: Uint8Array): Promise<{ connectorId: string; serialHex: string } | undefined> {
      const ca = await load();
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(der);
      } catch {
        return undefined;
      }
      const issuer = new X509Certificate(ca.certDer);
      if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) return undefined;
      const now = clock.now().getTime();
      if (now < new Date(cert.validFrom).getTime() || now > new Date(cert.validTo).getTime()) return undefined;
      const cn = /(?:^|\n)CN=([0-9a-f-]{36})(?:\n|$)/.exec(cert.subject);
      return cn ? { connectorId: cn[1]!, serialHex: cert.serialNumber.toLowerCase() } : undefined;
    },
  };
}

export type ConnectorCa = ReturnType<typeof createConnectorCa>;
