import { createHash, randomBytes, randomUUID, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { Kysely } from 'kysely';
import { parseCsr, verifyCsrSignature } from '@certbridge/pki';
import { appendAudit } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { requirePermission } from '../auth/rbac.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import { fingerprintOf, type ConnectorCa } from './connector-ca.ts';
import { connectorDb, type ConnectorRow } from './connectors-tables.ts';

/** Registration tokens are good for this long (issue 7: "short expiry"). */
export const TOKEN_LIFETIME_MS = 60 * 60_000;
/** A connector is online when its last heartbeat is at most this old. */
export const ONLINE_WINDOW_MS = 45_000;
const TOKEN_PREFIX = 'cbc1';

const hashToken = (secret: string): string => createHash('sha256').update(`connector-token:${secret}`).digest('hex');

/** The server's CA chain a connector pins (issuers of the HTTPS certificate, root last) and the certificate the token fingerprints. */
export type ServerTrust = () => Promise<{ caPem: string; pinDer: Uint8Array }>;

/**
 * Connector lifecycle: an admin creates one (name, site) and receives a one-time token
 * `cbc1.<secret>.<sha256 of the CA that issued the server's TLS certificate>`; the connector registers with it and a CSR of its
 * own key and gets a client certificate from the Connector CA; revocation bars the certificate
 * and (through `onRevoke`) drops the live socket.
 */
export function createConnectorsService(deps: { db: Kysely<Database>; ca: ConnectorCa; clock: Clock; trust: ServerTrust }) {
  const { db, ca, clock, trust } = deps;
  const cdb = connectorDb(db);
  const revokeListeners: ((id: string) => void)[] = [];

  async function find(idOrName: string): Promise<ConnectorRow | undefined> {
    const isId = /^[0-9a-f-]{36}$/i.test(idOrName);
    return cdb.selectFrom('connectors').selectAll().where(isId ? 'id' : 'name', '=', idOrName).executeTakeFirst();
  }
  async function require(idOrName: string): Promise<ConnectorRow> {
    const row = await find(idOrName);
    if (!row) throw notFound('connector', idOrName);
    return row;
  }

  async function issueToken(actor: Principal, row: ConnectorRow, action: string) {
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = new Date(clock.now().getTime() + TOKEN_LIFETIME_MS);
    await db.transaction().execute(async (trx) => {
      await connectorDb(trx).updateTable('connectors').set({ token_hash: hashToken(secret), token_expires_at: expiresAt, updated_at: clock.now() }).where('id', '=', row.id).execute();
      await appendAudit(trx, { actor, action, resourceType: 'connector', resourceId: row.id, outcome: 'success', details: { name: row.name } }, clock);
    });
    const { pinDer } = await trust();
    return { token: `${TOKEN_PREFIX}.${secret}.${fingerprintOf(pinDer)}`, expiresAt };
  }

  return {
    find,
    require,
    serverCaPem: async (): Promise<string> => (await trust()).caPem,
    /** Every connector, for internal readers (metrics); the API goes through `list`. */
    all: (): Promise<ConnectorRow[]> => cdb.selectFrom('connectors').selectAll().orderBy('name').execute(),
    onRevoke: (listener: (id: string) => void) => void revokeListeners.push(listener),
    async list(actor: Principal): Promise<ConnectorRow[]> {
      requirePermission(actor, 'connections:read');
      return cdb.selectFrom('connectors').selectAll().orderBy('name').execute();
    },
    async get(actor: Principal, idOrName: string): Promise<ConnectorRow> {
      requirePermission(actor, 'connections:read');
      return require(idOrName);
    },
    /** `POST /api/v1/connectors`: the token is shown once; only its hash is stored. */
    async create(actor: Principal, input: { name: string; site: string }) {
      requirePermission(actor, 'connections:manage');
      if (await find(input.name)) throw conflict(`a connector named ${input.name} exists`);
      const row = await cdb.insertInto('connectors').values({ id: randomUUID(), name: input.name, site: input.site }).returningAll().executeTakeFirstOrThrow();
      return { connector: row, ...(await issueToken(actor, row, 'connector.create')) };
    },
    /** A fresh token for a connector that lost its state (its old certificate stays valid until it registers again). */
    async newToken(actor: Principal, idOrName: string) {
      requirePermission(actor, 'connections:manage');
      const row = await require(idOrName);
      if (row.status === 'revoked') throw conflict(`connector ${row.name} is revoked`);
      return issueToken(actor, row, 'connector.token');
    },
    /** `POST /connector/v1/register`: token + CSR → client certificate and the chain to pin. */
    async register(input: { token: string; csrPem: string; version?: string | undefined }) {
      const [prefix, secret] = input.token.split('.');
      if (prefix !== TOKEN_PREFIX || !secret) throw new AppError('UNAUTHENTICATED', 'not a connector registration token');
      const hash = hashToken(secret);
      const row = await cdb.selectFrom('connectors').selectAll().where('token_hash', '=', hash).executeTakeFirst();
      if (!row || !row.token_hash || !timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(hash))) throw new AppError('UNAUTHENTICATED', 'the registration token is unknown or was already used');
      if (row.status === 'revoked') throw new AppError('FORBIDDEN', `connector ${row.name} is revoked`);
      if (!row.token_expires_at || row.token_expires_at.getTime() < clock.now().getTime()) throw new AppError('UNAUTHENTICATED', 'the registration token has expired; create a new one');
      const csr = parseCsr(input.csrPem);
      if (!verifyCsrSignature(csr)) throw new AppError('BAD_CSR_SIGNATURE', 'the CSR signature does not verify');
      const cert = await ca.issue(row.id, csr.spkiDer);
      const used = await db.transaction().execute(async (trx) => {
        const updated = await connectorDb(trx).updateTable('connectors').set({
          status: 'active', token_hash: null, token_expires_at: null, serial_hex: cert.serialHex, previous_serial_hex: null, cert_not_after: cert.notAfter, version: input.version ?? null, updated_at: clock.now(),
        }).where('id', '=', row.id).where('token_hash', '=', hash).returningAll().executeTakeFirst();
        if (updated) await appendAudit(trx, { actor: null, action: 'connector.register', resourceType: 'connector', resourceId: row.id, outcome: 'success', details: { name: row.name, serial: cert.serialHex } }, clock);
        return updated;
      });
      if (!used) throw new AppError('UNAUTHENTICATED', 'the registration token was already used');
      const { caPem } = await trust();
      return {
        id: row.id, name: row.name,
        certificatePem: new X509Certificate(cert.der).toString(),
        connectorCaPem: await ca.certificatePem(),
        serverCaPem: caPem,
        notAfter: cert.notAfter,
      };
    },
    /** Revokes: the certificate is refused from now on and every instance drops the socket. */
    async revoke(actor: Principal, idOrName: string): Promise<ConnectorRow> {
      requirePermission(actor, 'connections:manage');
      const row = await require(idOrName);
      const updated = await db.transaction().execute(async (trx) => {
        const r = await connectorDb(trx).updateTable('connectors').set({ status: 'revoked', token_hash: null, updated_at: clock.now() }).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
        await appendAudit(trx, { actor, action: 'connector.revoke', resourceType: 'connector', resourceId: row.id, outcome: 'success', details: { name: row.name, serial: row.serial_hex } }, clock);
        return r;
      });
      for (const listener of revokeListeners) listener(row.id);
      return updated;
    },
    /**
     * Self-renewal over the authenticated socket: a CSR for a key the connector generated. The
     * certificate the socket presented stays valid as `previous_serial_hex` until the new one is
     * first used, so a connector that dies before saving the new one can still come back.
     */
    async renewCertificate(id: string, presentedSerial: string, csrPem: string): Promise<{ certificatePem: string; notAfter: Date }> {
      const csr = parseCsr(csrPem);
      if (!verifyCsrSignature(csr)) throw new AppError('BAD_CSR_SIGNATURE', 'the CSR signature does not verify');
      const row = await require(id);
      if (row.status !== 'active') throw new AppError('FORBIDDEN', `connector ${row.name} is ${row.status}`);
      const cert = await ca.issue(row.id, csr.spkiDer);
      await db.transaction().execute(async (trx) => {
        await connectorDb(trx).updateTable('connectors').set({ previous_serial_hex: presentedSerial, serial_hex: cert.serialHex, cert_not_after: cert.notAfter, updated_at: clock.now() })
          .where('id', '=', row.id).execute();
        await appendAudit(trx, { actor: null, action: 'connector.renew', resourceType: 'connector', resourceId: row.id, outcome: 'success', details: { name: row.name, serial: cert.serialHex, previous: presentedSerial } }, clock);
      });
      return { certificatePem: new X509Certificate(cert.der).toString(), notAfter: cert.notAfter };
    },
    /** The connector a TLS client certificate authenticates, or why not. */
    async authenticate(der: Uint8Array | undefined): Promise<{ ok: true; connector: ConnectorRow; serialHex: string } | { ok: false; reason: string }> {
      if (!der) return { ok: false, reason: 'no client certificate' };
      const verified = await ca.verify(der);
      if (!verified) return { ok: false, reason: 'the client certificate was not issued by the Connector CA or is expired' };
      const row = await find(verified.connectorId);
      if (!row) return { ok: false, reason: 'unknown connector' };
      if (row.status !== 'active') return { ok: false, reason: `connector ${row.name} is ${row.status}` };
      if (row.previous_serial_hex && row.previous_serial_hex === verified.serialHex) return { ok: true, connector: row, serialHex: verified.serialHex };
      if (row.serial_hex !== verified.serialHex) return { ok: false, reason: `connector ${row.name} presented a superseded certificate` };
      // The renewed certificate is in use: the one before it is retired.
      if (row.previous_serial_hex) await cdb.updateTable('connectors').set({ previous_serial_hex: null }).where('id', '=', row.id).where('serial_hex', '=', verified.serialHex).execute();
      return { ok: true, connector: row, serialHex: verified.serialHex };
    },
    async heartbeat(id: string, version?: string): Promise<void> {
      await cdb.updateTable('connectors').set({ last_heartbeat_at: clock.now(), ...(version ? { version } : {}) }).where('id', '=', id).execute();
    },
    isOnline: (row: ConnectorRow): boolean => Boolean(row.last_heartbeat_at && clock.now().getTime() - row.last_heartbeat_at.getTime() <= ONLINE_WINDOW_MS),
  };
}

export type ConnectorsService = ReturnType<typeof createConnectorsService>;
