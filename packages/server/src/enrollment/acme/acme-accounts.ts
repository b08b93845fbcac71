import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { appendAudit } from '../../audit/audit-log.ts';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { Kysely } from 'kysely';
import type { ApplicationRow, Database } from '../../db/schema.ts';
import type { CatalogRepository } from '../../repositories/catalog-repository.ts';
import type { AcmeRepository } from './acme-repository.ts';
import { acmeDb, type AccountRow } from './acme-tables.ts';
import type { AcmeDirectory } from './acme-views.ts';
import { decodeJws, decodePayload, jwkThumbprint, verifySignature } from './jws.ts';
import { AcmeProblem } from './problems.ts';

export const eabContext = (kid: string) => `acme-eab:${kid}`;

const contactSchema = z.array(z.string().max(320)).max(10);
export const newAccountPayload = z.object({
  contact: contactSchema.optional(),
  termsOfServiceAgreed: z.boolean().optional(),
  onlyReturnExisting: z.boolean().optional(),
  externalAccountBinding: z.unknown().optional(),
}).passthrough();
export const accountUpdatePayload = z.object({ contact: contactSchema.optional(), status: z.literal('deactivated').optional() }).passthrough();

/** Section 7.3: only `mailto:` contacts, one plain address each (no hfields). */
function checkContacts(contact: string[]): string[] {
  for (const c of contact) {
    if (!c.startsWith('mailto:')) throw new AcmeProblem('unsupportedContact', `contact ${JSON.stringify(c)} is not a mailto: URL`);
    if (!/^mailto:[^@\s?,]+@[^@\s?,]+\.[^@\s?,]+$/.test(c)) throw new AcmeProblem('invalidContact', `contact ${JSON.stringify(c)} is not a single e-mail address`);
  }
  return contact;
}

/**
 * ACME accounts of one directory (profile): creation with optional external account binding
 * (section 7.3.4), lookup by key, contact update, deactivation and key rollover (7.3.5).
 */
export function createAcmeAccounts(deps: { db: Kysely<Database>; repo: AcmeRepository; catalog: CatalogRepository; sealer: Sealer; clock: Clock }) {
  const { repo, sealer } = deps;

  /** Verifies the EAB JWS (HS256 over the account JWK, section 7.3.4); returns the key row. */
  async function checkEab(eab: unknown, accountJwk: Record<string, unknown>, newAccountUrl: string, dir: AcmeDirectory) {
    const { jws, header } = decodeEab(eab);
    if (header.url !== newAccountUrl) throw new AcmeProblem('unauthorized', 'the externalAccountBinding url does not match the newAccount URL');
    const key = await repo.findEabKey(header.kid);
    if (!key) throw new AcmeProblem('unauthorized', `external account key ${header.kid} is unknown`);
    if (key.account_id) throw new AcmeProblem('unauthorized', `external account key ${header.kid} is already bound to an account`);
    if (!(await deps.catalog.hasApplicationProfile(key.application_id, dir.profile.id))) {
      throw new AcmeProblem('unauthorized', `external account key ${header.kid} belongs to an application without profile ${dir.profile.slug}`);
    }
    await verifySignature(jws, sealer.open(key.hmac_sealed, eabContext(key.id)), ['HS256', 'HS384', 'HS512']);
    const payload = decodePayload(jws);
    if (!payload || typeof payload !== 'object' || (await jwkThumbprint(payload as Record<string, unknown>)) !== (await jwkThumbprint(accountJwk))) {
      throw new AcmeProblem('unauthorized', 'the externalAccountBinding payload is not the account key');
    }
    return key;
  }

  return {
    /** Creates or finds the account of this key; `created` tells the caller to answer 201. */
    async newAccount(dir: AcmeDirectory, jwk: Record<string, unknown>, payload: z.infer<typeof newAccountPayload>, newAccountUrl: string): Promise<{ account: AccountRow; created: boolean }> {
      const thumbprint = await jwkThumbprint(jwk);
      const existing = await repo.findAccountByThumbprint(dir.profile.id, thumbprint);
      if (existing) {
        if (existing.status !== 'valid') throw new AcmeProblem('unauthorized', `the account is ${existing.status}`);
        return { account: existing, created: false };
      }
      if (payload.onlyReturnExisting) throw new AcmeProblem('accountDoesNotExist', 'no account exists for this key');
      const contact = checkContacts(payload.contact ?? []);
      let application: ApplicationRow = dir.application;
      let eabKeyId: string | null = null;
      if (payload.externalAccountBinding !== undefined) {
        const key = await checkEab(payload.externalAccountBinding, jwk, newAccountUrl, dir);
        eabKeyId = key.id;
        application = (await deps.catalog.findApplication(key.application_id)) ?? application;
      } else if (await repo.eabRequired(dir.application.id)) {
        throw new AcmeProblem('externalAccountRequired', `directory ${dir.profile.slug} requires an external account binding (ask the application owner for an EAB key)`);
      }
      const account = await deps.db.transaction().execute(async (trx) => {
        const atrx = acmeDb(trx);
        const row = await repo.insertAccount(atrx, {
          id: randomUUID(), profile_id: dir.profile.id, application_id: application.id, thumbprint, jwk: JSON.stringify(jwk),
          status: 'valid', contact: JSON.stringify(contact), eab_key_id: eabKeyId,
        });
        if (eabKeyId && !(await repo.bindEabKey(atrx, eabKeyId, row.id))) throw new AcmeProblem('unauthorized', `external account key ${eabKeyId} is already bound to an account`);
        await appendAudit(trx, { actor: null, action: 'acme.account.create', resourceType: 'acme-account', resourceId: row.id, outcome: 'success', details: { profile: dir.profile.slug, application: application.name, eabKeyId, contact } }, deps.clock);
        return row;
      });
      return { account, created: true };
    },

    /** Section 7.3.2 and 7.3.6; a deactivated account stays deactivated. Both are audited. */
    async update(account: AccountRow, payload: z.infer<typeof accountUpdatePayload>): Promise<AccountRow> {
      if (!payload.contact && !payload.status) return account;
      const contact = payload.contact ? checkContacts(payload.contact) : undefined;
      return deps.db.transaction().execute(async (trx) => {
        const row = await repo.updateAccount(acmeDb(trx), account.id, {
          ...(contact ? { contact: JSON.stringify(contact) } : {}),
          ...(payload.status ? { status: 'deactivated' } : {}),
        });
        const action = payload.status ? 'acme.account.deactivate' : 'acme.account.update';
        await appendAudit(trx, { actor: null, action, resourceType: 'acme-account', resourceId: account.id, outcome: 'success', details: { ...(contact ? { contact } : {}), ...(payload.status ? { status: 'deactivated' } : {}) } }, deps.clock);
        return row;
      });
    },

    /** Section 7.3.5: the inner JWS, signed by the new key, names the account and the old key. */
    async keyChange(dir: AcmeDirectory, account: AccountRow, inner: unknown, keyChangeUrl: string, accountUrl: string, importKey: (jwk: Record<string, unknown>, alg: string) => Promise<Parameters<typeof verifySignature>[1]>): Promise<AccountRow> {
      const { jws, header } = decodeJws(inner);
      if (!header.jwk) throw new AcmeProblem('malformed', 'the inner JWS of a key change must carry the new key as "jwk"');
      if (header.url !== keyChangeUrl) throw new AcmeProblem('malformed', 'the inner JWS url must be the keyChange URL');
      if (header.nonce !== undefined) throw new AcmeProblem('malformed', 'the inner JWS must not carry a nonce');
      await verifySignature(jws, await importKey(header.jwk, header.alg));
      const body = z.object({ account: z.string(), oldKey: z.record(z.unknown()) }).safeParse(decodePayload(jws));
      if (!body.success) throw new AcmeProblem('malformed', 'the key change payload must hold "account" and "oldKey"');
      if (body.data.account !== accountUrl) throw new AcmeProblem('malformed', 'the key change names another account');
      if ((await jwkThumbprint(body.data.oldKey)) !== account.thumbprint) throw new AcmeProblem('malformed', 'oldKey is not the current account key');
      const thumbprint = await jwkThumbprint(header.jwk);
      const clash = await repo.findAccountByThumbprint(dir.profile.id, thumbprint);
      if (clash) throw new AcmeProblem('malformed', `the new key already belongs to account ${clash.id}`);
      // The audit row names both keys by thumbprint, so a rollover can be traced to the key holder.
      return deps.db.transaction().execute(async (trx) => {
        const row = await repo.updateAccount(acmeDb(trx), account.id, { thumbprint, jwk: JSON.stringify(header.jwk) });
        await appendAudit(trx, { actor: null, action: 'acme.account.key-change', resourceType: 'acme-account', resourceId: account.id, outcome: 'success', details: { oldThumbprint: account.thumbprint, newThumbprint: thumbprint } }, deps.clock);
        return row;
      });
    },

    /** A new EAB key for an application (API); the HMAC secret is returned once and kept sealed. */
    async createEabKey(applicationId: string, identifierPatterns: string[] = []) {
      const id = `eab_${randomBytes(12).toString('base64url')}`;
      const secret = cliSafeHmacSecret();
      const row = await repo.insertEabKey({ id, application_id: applicationId, hmac_sealed: sealer.seal(secret, eabContext(id)), identifier_patterns: JSON.stringify(identifierPatterns) });
      return { keyId: row.id, hmacKey: secret.toString('base64url'), applicationId, identifierPatterns, createdAt: row.created_at };
    },
  };
}

/**
 * 32 random bytes whose base64url form does not start with '-': command-line clients (certbot's
 * argparse, lego) read `--eab-hmac-key -abc…` as a new option, so one key in 64 would be unusable
 * as typed. Redrawing costs under a bit of entropy.
 */
function cliSafeHmacSecret(): Buffer {
  for (;;) {
    const secret = randomBytes(32);
    if (secret.toString('base64url')[0] !== '-') return secret;
  }
}

const eabHeader = z.object({ alg: z.enum(['HS256', 'HS384', 'HS512']), kid: z.string().min(1), url: z.string() }).passthrough();

function decodeEab(eab: unknown) {
  const flat = z.object({ protected: z.string(), payload: z.string(), signature: z.string() }).strict().safeParse(eab);
  if (!flat.success) throw new AcmeProblem('malformed', 'externalAccountBinding is not a flattened JWS');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(flat.data.protected, 'base64url').toString('utf8'));
  } catch {
    throw new AcmeProblem('malformed', 'the externalAccountBinding protected header is not base64url JSON');
  }
  const parsed = eabHeader.safeParse(header);
  if (!parsed.success) throw new AcmeProblem('malformed', 'the externalAccountBinding header needs alg HS256/384/512, kid and url');
  if ('nonce' in parsed.data) throw new AcmeProblem('malformed', 'the externalAccountBinding must not carry a nonce');
  return { jws: flat.data, header: parsed.data };
}

export type AcmeAccounts = ReturnType<typeof createAcmeAccounts>;
