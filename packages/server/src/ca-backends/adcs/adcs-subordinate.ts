import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { buildCsr, exportPrivateKeyPkcs8Der, generateKeyPair, parseCertificate, type KeyAlgorithm } from '@certbridge/pki';
import { appendAudit } from '../../audit/audit-log.ts';
import type { Principal } from '../../auth/principal.ts';
import { requirePermission } from '../../auth/rbac.ts';
import type { CaKeyStore } from '../../cas/ca-keys.ts';
import type { Clock } from '../../clock.ts';
import type { CaRow, Database } from '../../db/schema.ts';
import { AppError, conflict } from '../../errors.ts';
import type { CasRepository } from '../../repositories/cas-repository.ts';
import { subjectFromInput } from '../../issuance/request-facts.ts';
import { backendFor, type BackendDeps } from '../registry.ts';
import type { IssueResult } from '../types.ts';

export interface SubordinateInput {
  name: string;
  subject: string;
  keyAlgorithm: KeyAlgorithm;
  /** The ADCS template for subordinate CAs (default `SubCA`). */
  template: string;
}

/** Where a subordinate waiting for a CA manager keeps its ADCS ticket (`cas.settings.adcsPending`). */
interface PendingSettings { adcsPending?: { parentId: string; requestId: string; server?: string; template: string } ; adcsDenied?: string }

const b64 = (d: Uint8Array) => Buffer.from(d).toString('base64');

/**
 * An internal intermediate CA whose key Certbridge generates and whose certificate an ADCS CA
 * issues from a subordinate-CA template (issue 4 item 9). Issued at once: the CA is active.
 * Pending (CA-manager approval): the CA row exists, disabled, with its ticket; the background
 * poll activates it when ADCS issues the certificate (or records the denial).
 */
export function createAdcsSubordinates(deps: { db: Kysely<Database>; cas: CasRepository; keys: CaKeyStore; backends: BackendDeps; clock: Clock }) {
  const { db, cas, keys, clock } = deps;

  function certificateColumns(result: Extract<IssueResult, { status: 'issued' }>) {
    const info = parseCertificate(result.certificateDer);
    if (!info.isCa) throw new AppError('VALIDATION_FAILED', 'ADCS issued a certificate without cA=true: the template is not a subordinate CA template');
    return {
      subject: info.subjectText, serial_hex: info.serialHex, certificate_der: info.der, chain: JSON.stringify(result.chainDer.map(b64)),
      not_before: info.notBefore, not_after: info.notAfter, status: 'active' as const,
    };
  }

  return {
    async create(actor: Principal, parentIdOrName: string, input: SubordinateInput): Promise<CaRow> {
      requirePermission(actor, 'cas:manage');
      const parent = await cas.find(parentIdOrName);
      if (!parent || parent.type !== 'adcs') throw new AppError('VALIDATION_FAILED', `${parentIdOrName} is not an ADCS CA`);
      if (await cas.find(input.name)) throw conflict(`a CA named ${input.name} already exists`);
      const subject = subjectFromInput(input.subject); // a bad DN is VALIDATION_FAILED, not a 500
      const pair = generateKeyPair(input.keyAlgorithm);
      const csrDer = buildCsr({ subject, privateKey: pair.privateKey, publicKey: pair.publicKey });
      const spkiDer = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));
      const id = randomUUID();
      const now = clock.now();
      const result = await backendFor(parent, deps.backends).issue({
        orderId: id, csrDer, spkiDer, subject, sans: [], notBefore: now, notAfter: now, keyUsages: [], extendedKeyUsages: [], template: input.template,
      });
      if (result.status === 'rejected') {
        throw new AppError('CA_REJECTED', result.reason, { disposition: result.disposition, hresult: result.hresult, caRequestId: result.requestId });
      }
      const base = {
        id, name: input.name, type: 'internal', parent_id: parent.id, key_algorithm: input.keyAlgorithm,
        private_key_sealed: keys.seal(id, exportPrivateKeyPkcs8Der(pair.privateKey)),
      };
      const row = result.status === 'issued'
        ? { ...base, ...certificateColumns(result) }
        : {
          ...base, subject: input.subject, serial_hex: null, certificate_der: null, not_before: null, not_after: null, status: 'disabled' as const,
          settings: JSON.stringify({ adcsPending: { parentId: parent.id, requestId: result.ticket.requestId, ...(result.ticket.server ? { server: result.ticket.server } : {}), template: input.template } } satisfies PendingSettings),
        };
      return db.transaction().execute(async (trx) => {
        const created = await cas.insert(trx, row);
        await appendAudit(trx, { actor, action: 'ca.create', resourceType: 'ca', resourceId: id, outcome: 'success', details: { name: input.name, issuedBy: parent.name, template: input.template, state: result.status } }, clock);
        return created;
      });
    },

    /** Job step: asks ADCS about subordinates still waiting; returns how many became active. */
    async pollPending(): Promise<number> {
      const waiting = await db.selectFrom('cas').selectAll().where('type', '=', 'internal').where('status', '=', 'disabled').where('certificate_der', 'is', null).execute();
      let activated = 0;
      for (const ca of waiting) {
        const pending = (ca.settings as PendingSettings).adcsPending;
        if (!pending) continue;
        const parent = await cas.find(pending.parentId);
        if (!parent) continue;
        const result = await backendFor(parent, deps.backends).poll({ requestId: pending.requestId, ...(pending.server ? { server: pending.server } : {}) });
        if (result.status === 'pending') continue;
        const patch = result.status === 'issued'
          ? { ...certificateColumns(result), settings: JSON.stringify({}) }
          : { settings: JSON.stringify({ adcsDenied: `${result.reason}${result.hresult ? ` (${result.hresult})` : ''}` } satisfies PendingSettings) };
        await db.transaction().execute(async (trx) => {
          await trx.updateTable('cas').set({ ...patch, updated_at: new Date() }).where('id', '=', ca.id).execute();
          await appendAudit(trx, { actor: null, action: result.status === 'issued' ? 'ca.activate' : 'ca.denied', resourceType: 'ca', resourceId: ca.id, outcome: result.status === 'issued' ? 'success' : 'failure', details: { requestId: pending.requestId } }, clock);
        });
        if (result.status === 'issued') activated++;
      }
      return activated;
    },
  };
}

export type AdcsSubordinates = ReturnType<typeof createAdcsSubordinates>;
