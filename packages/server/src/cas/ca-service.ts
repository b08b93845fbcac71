import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  exportPrivateKeyPkcs8Der, generateKeyPair, importPrivateKey, keyMatchesCertificate, parseCertificate,
  pemDecodeAll, randomSerial, signCertificate, PkiError, type KeyAlgorithm,
} from '@certbridge/pki';
import { appendAudit } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { requirePermission } from '../auth/rbac.ts';
import type { Clock } from '../clock.ts';
import type { CaRow, Database } from '../db/schema.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import type { CasRepository } from '../repositories/cas-repository.ts';
import { subjectFromInput } from '../issuance/request-facts.ts';
import { pkiUrls, type CaKeyStore } from './ca-keys.ts';

export interface CreateCaInput {
  name: string;
  kind: 'root' | 'intermediate';
  /** Issuer for an intermediate: an internal CA's id or name. */
  parent?: string;
  subject: string;
  keyAlgorithm: KeyAlgorithm;
  validityDays: number;
  pathLength?: number;
}

export interface ImportCaInput {
  name: string;
  certificatePem: string;
  /** Issuers above it, nearest first (PEM, any number of blocks). */
  chainPem?: string;
  privateKeyPem: string;
}

const DAY_MS = 86_400_000;

export function createCaService(deps: { db: Kysely<Database>; cas: CasRepository; keys: CaKeyStore; clock: Clock; pkiUrl: string }) {
  const { db, cas, keys, clock } = deps;

  async function requireCa(idOrName: string): Promise<CaRow> {
    const ca = await cas.find(idOrName);
    if (!ca) throw notFound('CA', idOrName);
    return ca;
  }

  async function insertAudited(actor: Principal, row: Parameters<CasRepository['insert']>[1], action: string) {
    if (await cas.find(row.name)) throw conflict(`a CA named ${row.name} already exists`);
    return db.transaction().execute(async (trx) => {
      const created = await cas.insert(trx, row);
      await appendAudit(trx, { actor, action, resourceType: 'ca', resourceId: created.id, outcome: 'success', details: { name: created.name, subject: created.subject } }, clock);
      return created;
    });
  }

  return {
    requireCa,
    list: (actor: Principal) => (requirePermission(actor, 'cas:read'), cas.list()),

    /** Creates an internal root (self-signed) or an intermediate signed by an internal parent. */
    async create(actor: Principal, input: CreateCaInput): Promise<CaRow> {
      requirePermission(actor, 'cas:manage');
      const subject = subjectFromInput(input.subject); // a bad DN is VALIDATION_FAILED, not a 500
      const id = randomUUID();
      const pair = generateKeyPair(input.keyAlgorithm);
      const spkiDer = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));
      const now = clock.now();
      const notBefore = new Date(now.getTime() - 5 * 60_000); // tolerate clock skew of relying parties
      let notAfter = new Date(now.getTime() + input.validityDays * DAY_MS);
      const base = { serialNumber: randomSerial(), subject, spkiDer, notBefore, keyUsages: ['keyCertSign', 'cRLSign', 'digitalSignature'] as const };
      let certificateDer: Uint8Array;
      let chain: string[] = [];
      let parentId: string | null = null;
      if (input.kind === 'root') {
        certificateDer = signCertificate({ ...base, keyUsages: [...base.keyUsages], notAfter, ca: input.pathLength === undefined ? {} : { pathLength: input.pathLength } }, { selfSigned: pair.privateKey });
      } else {
        if (!input.parent) throw new AppError('VALIDATION_FAILED', 'an intermediate CA needs a parent');
        const parent = await requireCa(input.parent);
        if (parent.type !== 'internal' || parent.status !== 'active') throw new AppError('VALIDATION_FAILED', `CA ${parent.name} cannot sign intermediates`);
        if (parent.not_after && parent.not_after < notAfter) notAfter = parent.not_after;
        const urls = pkiUrls(deps.pkiUrl, parent.id);
        certificateDer = signCertificate(
          { ...base, keyUsages: [...base.keyUsages], notAfter, ca: { pathLength: input.pathLength ?? 0 }, aia: { caIssuers: [urls.caIssuers], ocsp: [urls.ocsp] }, crlDistributionPoints: [urls.crl] },
          await keys.signer(parent),
        );
        chain = [Buffer.from(parent.certificate_der!).toString('base64'), ...parent.chain];
        parentId = parent.id;
      }
      const info = parseCertificate(certificateDer);
      return insertAudited(actor, {
        id, name: input.name, type: 'internal', parent_id: parentId, subject: info.subjectText, serial_hex: info.serialHex,
        key_algorithm: input.keyAlgorithm, certificate_der: certificateDer, chain: JSON.stringify(chain),
        private_key_sealed: keys.seal(id, exportPrivateKeyPkcs8Der(pair.privateKey)), not_before: info.notBefore, not_after: info.notAfter,
      }, 'ca.create');
    },

    /** Imports an existing CA certificate with its key (e.g. an offline root's intermediate). */
    async import(actor: Principal, input: ImportCaInput): Promise<CaRow> {
      requirePermission(actor, 'cas:manage');
      let info, key, chainDer: Uint8Array[];
      try {
        info = parseCertificate(input.certificatePem);
        key = importPrivateKey(input.privateKeyPem);
        chainDer = input.chainPem ? pemDecodeAll(input.chainPem, 'CERTIFICATE') : [];
      } catch (err) {
        if (err instanceof PkiError) throw new AppError('BAD_REQUEST', `cannot read the CA material: ${err.message}`, undefined, { cause: err });
        throw err;
      }
      if (!info.isCa) throw new AppError('VALIDATION_FAILED', 'the certificate is not a CA certificate (basicConstraints cA is not set)');
      if (!keyMatchesCertificate(key, info.der)) throw new AppError('VALIDATION_FAILED', 'the private key does not belong to the certificate');
      const id = randomUUID();
      return insertAudited(actor, {
        id, name: input.name, type: 'internal', parent_id: null, subject: info.subjectText, serial_hex: info.serialHex,
        key_algorithm: info.publicKey.algorithm, certificate_der: info.der, chain: JSON.stringify(chainDer.map((d) => Buffer.from(d).toString('base64'))),
        private_key_sealed: keys.seal(id, exportPrivateKeyPkcs8Der(key)), not_before: info.notBefore, not_after: info.notAfter,
      }, 'ca.import');
    },

    /** The CA certificate followed by its issuers. */
    async chain(idOrName: string): Promise<Uint8Array[]> {
      const ca = await requireCa(idOrName);
      if (!ca.certificate_der) throw new AppError('NOT_SUPPORTED', `CA ${ca.name} has no certificate of its own`);
      return [ca.certificate_der, ...ca.chain.map((b) => new Uint8Array(Buffer.from(b, 'base64')))];
    },

    /** Enables/disables a CA, or switches who signs its OCSP answers (the CA or a delegated responder). */
    async update(actor: Principal, idOrName: string, patch: { status?: 'active' | 'disabled'; ocspSigning?: 'ca' | 'delegated' }): Promise<CaRow> {
      requirePermission(actor, 'cas:manage');
      const ca = await requireCa(idOrName);
      const settings = patch.ocspSigning ? { ...ca.settings, ocspSigning: patch.ocspSigning } : undefined;
      return db.transaction().execute(async (trx) => {
        const row = (await cas.update(trx, ca.id, { ...(patch.status ? { status: patch.status } : {}), ...(settings ? { settings } : {}) }))!;
        await appendAudit(trx, { actor, action: 'ca.update', resourceType: 'ca', resourceId: ca.id, outcome: 'success', details: patch }, clock);
        return row;
      });
    },
  };
}

export type CaService = ReturnType<typeof createCaService>;
