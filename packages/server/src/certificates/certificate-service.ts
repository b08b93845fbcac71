import { buildPkcs12, importPrivateKey, KEY_ALGORITHMS, parseDn, pemEncode, type KeyAlgorithm, type RevocationReason, type San } from '@certbridge/pki';
import type { Kysely } from 'kysely';
import { appendAudit } from '../audit/audit-log.ts';
import type { ApplicationAccess } from '../auth/application-access.ts';
import type { Principal } from '../auth/principal.ts';
import { can } from '../auth/rbac.ts';
import { backendFor, type BackendDeps } from '../ca-backends/registry.ts';
import type { Clock } from '../clock.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { CertificateRow, Database } from '../db/schema.ts';
import { AppError, notFound } from '../errors.ts';
import type { CasRepository } from '../repositories/cas-repository.ts';
import type { CatalogRepository } from '../repositories/catalog-repository.ts';
import type { CertificateFilter, CertificatesRepository } from '../repositories/certificates-repository.ts';
import type { OrdersRepository } from '../repositories/orders-repository.ts';
import { serverKeyContext, type IssuanceService, type IssueOutcome, type Protocol } from '../issuance/issuance-service.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';

const isKeyAlgorithm = (v: string | null): v is KeyAlgorithm => (KEY_ALGORITHMS as readonly string[]).includes(v ?? '');

export type DownloadFormat = 'pem' | 'der' | 'chain' | 'pkcs12';

export interface RevocationHooks {
  /** Called after a revocation commits, so the CA's CRL is regenerated at once. */
  afterRevocation(caId: string): Promise<void>;
}

/** The inventory: listing, detail, downloads, renewal and revocation. */
export function createCertificateService(deps: {
  db: Kysely<Database>; certificates: CertificatesRepository; orders: OrdersRepository; cas: CasRepository; catalog: CatalogRepository;
  access: ApplicationAccess; issuance: IssuanceService; sealer: Sealer; backends: BackendDeps; clock: Clock; hooks: RevocationHooks;
  /** PKCS#12 files an on-prem connector generated: handed out once, under the password given at issuance. */
  connectorPkcs12?: { has(orderId: string): Promise<boolean>; take(orderId: string, password: string): Promise<Buffer> };
}) {
  const { db, certificates, access, clock } = deps;

  async function load(actor: Principal, id: string): Promise<CertificateRow> {
    const cert = await certificates.find(id);
    const readable = cert && (cert.application_id ? await access.allows(actor, cert.application_id, 'read') : (await access.readableApplicationIds(actor)) === null);
    if (!cert || !readable) throw notFound('certificate', id);
    return cert;
  }

  return {
    get: load,

    async list(actor: Principal, filter: Omit<CertificateFilter, 'applicationIds' | 'now'>, limit: number, cursor?: string) {
      const after = cursor ? decodeCursor(cursor) : undefined;
      const rows = await certificates.list({ ...filter, applicationIds: await access.readableApplicationIds(actor), now: clock.now() }, limit + 1, after);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { items: page, nextCursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null };
    },

    /** PEM/DER of the certificate, the PEM chain, or (server-generated keys only) a PKCS#12. */
    async download(actor: Principal, id: string, format: DownloadFormat, password?: string): Promise<{ body: Buffer | string; contentType: string; filename: string }> {
      const cert = await load(actor, id);
      const name = `certificate-${cert.serial_hex}`;
      const chain = cert.chain.map((b) => Buffer.from(b, 'base64'));
      if (format === 'der') return { body: Buffer.from(cert.der), contentType: 'application/pkix-cert', filename: `${name}.cer` };
      if (format === 'pem') return { body: pemEncode('CERTIFICATE', cert.der), contentType: 'application/x-pem-file', filename: `${name}.pem` };
      if (format === 'chain') {
        return { body: [cert.der, ...chain].map((d) => pemEncode('CERTIFICATE', d)).join(''), contentType: 'application/x-pem-file', filename: `${name}-chain.pem` };
      }
      const fromConnector = !cert.private_key_sealed && cert.order_id && deps.connectorPkcs12 ? await deps.connectorPkcs12.has(cert.order_id) : false;
      if ((!cert.private_key_sealed && !fromConnector) || !cert.order_id) throw new AppError('NOT_SUPPORTED', 'PKCS#12 is only available for certificates whose key the server generated');
      // Reading a certificate is not holding its key: viewers and auditors never export it.
      const mayExport = cert.application_id
        ? (await access.allows(actor, cert.application_id, 'revoke-any')) || (cert.requester_id === actor.userId && (await access.allows(actor, cert.application_id, 'issue')))
        : can(actor, 'certificates:revoke-any');
      if (!mayExport) throw new AppError('FORBIDDEN', 'only the requester of this certificate or a manager of its application may export its private key');
      if (!password || password.length < 8) throw new AppError('VALIDATION_FAILED', 'a PKCS#12 download needs a password of at least 8 characters');
      const p12 = fromConnector && deps.connectorPkcs12
        ? await deps.connectorPkcs12.take(cert.order_id, password)
        : buildPkcs12({ privateKey: importPrivateKey(deps.sealer.open(cert.private_key_sealed!, serverKeyContext(cert.order_id))), certificateDer: cert.der, chainDer: chain, password, friendlyName: cert.subject });
      await db.transaction().execute((trx) => appendAudit(trx, { actor, action: 'certificate.export-key', resourceType: 'certificate', resourceId: cert.id, outcome: 'success', details: { format } }, clock));
      return { body: Buffer.from(p12), contentType: 'application/x-pkcs12', filename: `${name}.p12` };
    },

    async revoke(actor: Principal, id: string, reason: RevocationReason): Promise<CertificateRow> {
      const cert = await load(actor, id);
      const appId = cert.application_id;
      const mayRevoke = appId
        ? (await access.allows(actor, appId, 'revoke-any')) || (cert.requester_id === actor.userId && (await access.allows(actor, appId, 'revoke-own')))
        : (await access.readableApplicationIds(actor)) === null && actor.role !== 'auditor';
      if (!mayRevoke) throw new AppError('FORBIDDEN', 'you may not revoke this certificate');
      if (cert.status === 'revoked') throw new AppError('CONFLICT', 'the certificate is already revoked', { revokedAt: cert.revoked_at });
      const ca = await deps.cas.find(cert.ca_id);
      if (!ca) throw notFound('CA', cert.ca_id);
      const atCa = await backendFor(ca, deps.backends).revoke({ serialHex: cert.serial_hex, reason, certificateDer: cert.der });
      const deferred = atCa ? atCa.deferred : null;
      const revoked = await db.transaction().execute(async (trx) => {
        let row = await certificates.revoke(trx, cert.id, clock.now(), reason);
        if (!row) throw new AppError('CONFLICT', 'the certificate is already revoked');
        // External CAs (ADCS) publish their own CRL: the certificate is marked "to revoke at the CA".
        if (deferred) row = await trx.updateTable('certificates').set({ ca_revocation_pending: true }).where('id', '=', cert.id).returningAll().executeTakeFirstOrThrow();
        await appendAudit(trx, { actor, action: 'certificate.revoke', resourceType: 'certificate', resourceId: cert.id, outcome: 'success', details: { serial: cert.serial_hex, reason, ...(deferred ? { pendingAtCa: deferred } : {}) } }, clock);
        return row;
      });
      if (!deferred) await deps.hooks.afterRevocation(cert.ca_id);
      return revoked;
    },

    /**
     * Renews with the same subject and SANs: with a new CSR from the caller, by reusing the
     * original CSR (same key), or (server-generated keys) with a fresh server-generated key.
     */
    async renew(actor: Principal, id: string, input: { csr?: string; reuseCsr?: boolean }, protocol: Protocol = 'api'): Promise<IssueOutcome> {
      const cert = await load(actor, id);
      if (!cert.application_id || !cert.profile_id) throw new AppError('NOT_SUPPORTED', 'this certificate was not issued through an application profile');
      const application = await access.require(actor, cert.application_id, 'issue');
      const profile = await deps.catalog.findProfile(cert.profile_id);
      if (!profile) throw notFound('profile', cert.profile_id);
      const ctx = { actor, protocol, application, profile };
      if (input.csr) return deps.issuance.issue(ctx, { kind: 'csr', csr: input.csr, renewedFromId: cert.id });
      const order = cert.order_id ? await deps.orders.find(cert.order_id) : undefined;
      if (order?.csr_der && input.reuseCsr !== false) return deps.issuance.issue(ctx, { kind: 'csr', csr: order.csr_der, renewedFromId: cert.id });
      if (cert.private_key_sealed) {
        return deps.issuance.issue(ctx, {
          kind: 'keygen', subject: parseDn(cert.subject), sans: cert.sans as San[],
          ...(isKeyAlgorithm(cert.key_algorithm) ? { keyAlgorithm: cert.key_algorithm } : {}), renewedFromId: cert.id,
        });
      }
      throw new AppError('VALIDATION_FAILED', 'send a new CSR to renew this certificate');
    },
  };
}

export type CertificateService = ReturnType<typeof createCertificateService>;
