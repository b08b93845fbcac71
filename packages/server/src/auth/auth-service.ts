import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { appendAudit, recordAudit } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import type { UsersRepository } from '../repositories/users-repository.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import type { Principal, Role } from './principal.ts';
import { can, requirePermission } from './rbac.ts';
import { hashBearerSecret, newBearerSecret } from './secrets.ts';
import { createTokenLookup } from './token-lookup.ts';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const TOKEN_TOUCH_INTERVAL_MS = 60_000;
/** Login throttling: at most this many failures per window, per user name and per client address. */
export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

export interface AuthDeps {
  db: Kysely<Database>;
  users: UsersRepository;
  clock: Clock;
}

// Verified against when the user does not exist, so both paths cost one scrypt (no user enumeration by timing).
const DUMMY_HASH = hashPassword(randomBytes(16).toString('hex'));

export function createAuthService({ db, users, clock }: AuthDeps) {
  const tokens = createTokenLookup(users);
  // Concurrent requests with one token all read the old last_used_at: only the first of them in
  // this process writes it (the others would queue on the same row lock for nothing).
  const touchedAt = new Map<string, number>();
  const claimTouch = (tokenId: string, now: Date): boolean => {
    const last = touchedAt.get(tokenId);
    if (last !== undefined && now.getTime() - last < TOKEN_TOUCH_INTERVAL_MS) return false;
    if (touchedAt.size > 10_000) touchedAt.clear();
    touchedAt.set(tokenId, now.getTime());
    return true;
  };
  const toPrincipal = (row: { user_id: string; username: string; role: Role }, via: Principal['via'], ids: Partial<Principal>): Principal => ({
    userId: row.user_id, username: row.username, role: row.role, via, ...ids,
  });

  /**
   * Resolves `Authorization: Bearer cbt_…`; null when unknown, revoked, expired or the user is
   * disabled. `catalogVersion`: the catalogue counter read by the same statement, after the call
   * began (token-lookup.ts), for the request's catalogue lookups (CatalogCache.get's `observed`).
   */
  async function authenticateBearer(secret: string): Promise<{ principal: Principal; catalogVersion: string | undefined } | null> {
    const row = await tokens.find(hashBearerSecret(secret));
    const now = clock.now();
    if (!row || row.revoked_at || row.disabled || (row.expires_at && row.expires_at <= now)) return null;
    // last_used_at is for people ("is this token still in use?"): minute precision is enough,
    // and skipping the write keeps a busy token from costing an UPDATE per request.
    if ((!row.last_used_at || now.getTime() - row.last_used_at.getTime() > TOKEN_TOUCH_INTERVAL_MS) && claimTouch(row.token_id, now)) await users.touchToken(row.token_id, now);
    return { principal: toPrincipal(row, 'token', { tokenId: row.token_id }), catalogVersion: row.catalogVersion };
  }

  return {
    authenticateBearer,
    /** `authenticateBearer` without the catalogue counter. */
    async authenticateToken(secret: string): Promise<Principal | null> {
      return (await authenticateBearer(secret))?.principal ?? null;
    },

    async authenticateSession(secret: string): Promise<{ principal: Principal; csrfToken: string } | null> {
      const row = await users.findSessionByHash(hashBearerSecret(secret));
      if (!row || row.disabled || row.expires_at <= clock.now()) return null;
      return { principal: toPrincipal(row, 'session', { sessionId: row.session_id }), csrfToken: row.csrf_token };
    },

    /**
     * Password login for the UI. Failures are counted in the database (so every server
     * instance sees them) per user name and per client address; past the limit it answers
     * RATE_LIMITED without checking the password.
     */
    async login(username: string, password: string, clientIp: string) {
      const now = clock.now();
      const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
      const keys = [`user:${username.toLowerCase()}`, `ip:${clientIp}`];
      for (const key of keys) {
        if ((await users.countRecentFailures(key, since)) >= LOGIN_MAX_FAILURES) {
          throw new AppError('RATE_LIMITED', 'too many failed logins; try again later', { retryAfterSeconds: Math.ceil(LOGIN_WINDOW_MS / 1000) });
        }
      }
      const user = await users.findByUsername(username);
      const ok = user ? await verifyPassword(password, user.password_hash) : (await verifyPassword(password, await DUMMY_HASH), false);
      if (!user || !ok || user.disabled) {
        for (const key of keys) await users.recordFailure(key, now);
        await recordAudit(db, { actor: null, action: 'auth.login', resourceType: 'user', resourceId: user?.id ?? null, outcome: 'failure', details: { username } }, clock);
        throw new AppError('UNAUTHENTICATED', 'wrong user name or password');
      }
      await users.clearFailures(keys[0]!);
      const session = newBearerSecret('cbs');
      const csrfToken = randomBytes(24).toString('base64url');
      const id = randomUUID();
      await users.insertSession({ id, user_id: user.id, token_hash: session.hash, csrf_token: csrfToken, expires_at: new Date(now.getTime() + SESSION_TTL_MS) });
      const principal: Principal = { userId: user.id, username: user.username, role: user.role, via: 'session', sessionId: id };
      await recordAudit(db, { actor: principal, action: 'auth.login', resourceType: 'user', resourceId: user.id, outcome: 'success' }, clock);
      return { sessionSecret: session.secret, csrfToken, principal, expiresInSeconds: SESSION_TTL_MS / 1000 };
    },

    async logout(principal: Principal): Promise<void> {
      if (!principal.sessionId) return;
      await users.deleteSession(principal.sessionId);
      await recordAudit(db, { actor: principal, action: 'auth.logout', resourceType: 'session', resourceId: principal.sessionId, outcome: 'success' }, clock);
    },

    async createUser(actor: Principal, input: { username: string; password: string; role: Role }) {
      requirePermission(actor, 'users:manage');
      if (await users.findByUsername(input.username)) throw conflict(`user ${input.username} already exists`);
      const passwordHash = await hashPassword(input.password);
      return db.transaction().execute(async (trx) => {
        const row = await users.insert(trx, { id: randomUUID(), username: input.username, password_hash: passwordHash, role: input.role });
        await appendAudit(trx, { actor, action: 'user.create', resourceType: 'user', resourceId: row.id, outcome: 'success', details: { username: row.username, role: row.role } }, clock);
        return row;
      });
    },

    async updateUser(actor: Principal, id: string, patch: { password?: string; role?: Role; disabled?: boolean }) {
      const self = actor.userId === id;
      if (!can(actor, 'users:manage') && !(self && patch.role === undefined && patch.disabled === undefined)) {
        requirePermission(actor, 'users:manage');
      }
      const passwordHash = patch.password ? await hashPassword(patch.password) : undefined;
      return db.transaction().execute(async (trx) => {
        const row = await users.update(trx, id, {
          ...(passwordHash ? { password_hash: passwordHash } : {}),
          ...(patch.role ? { role: patch.role } : {}),
          ...(patch.disabled !== undefined ? { disabled: patch.disabled } : {}),
        });
        if (!row) throw notFound('user', id);
        await appendAudit(trx, { actor, action: 'user.update', resourceType: 'user', resourceId: id, outcome: 'success', details: { role: patch.role, disabled: patch.disabled, passwordChanged: Boolean(passwordHash) } }, clock);
        return row;
      });
    },

    /** Creates an API token; the secret is returned once and only its hash is kept. */
    async createToken(actor: Principal, input: { name: string; userId?: string; expiresAt?: Date | null; fixedSecret?: string }) {
      const userId = input.userId ?? actor.userId;
      if (userId !== actor.userId) requirePermission(actor, 'tokens:manage-all');
      if (!(await users.findById(userId))) throw notFound('user', userId);
      if (input.expiresAt && input.expiresAt <= clock.now()) throw new AppError('VALIDATION_FAILED', 'expiresAt must be in the future');
      const generated = newBearerSecret('cbt');
      const secret = input.fixedSecret ?? generated.secret;
      return db.transaction().execute(async (trx) => {
        const row = await users.insertToken(trx, {
          id: randomUUID(), user_id: userId, name: input.name, token_hash: hashBearerSecret(secret),
          prefix: secret.slice(0, 10), expires_at: input.expiresAt ?? null,
        });
        await appendAudit(trx, { actor, action: 'token.create', resourceType: 'token', resourceId: row.id, outcome: 'success', details: { name: input.name, userId } }, clock);
        return { token: secret, id: row.id, name: row.name, userId, prefix: row.prefix, expiresAt: row.expires_at, createdAt: row.created_at };
      });
    },

    async listTokens(actor: Principal) {
      return users.listTokens(can(actor, 'tokens:manage-all') ? undefined : actor.userId);
    },

    async revokeToken(actor: Principal, id: string) {
      const token = await users.findToken(id);
      if (!token || (token.user_id !== actor.userId && !can(actor, 'tokens:manage-all'))) throw notFound('token', id);
      await db.transaction().execute(async (trx) => {
        await users.revokeToken(trx, id, clock.now());
        await appendAudit(trx, { actor, action: 'token.revoke', resourceType: 'token', resourceId: id, outcome: 'success' }, clock);
      });
    },

    async listUsers(actor: Principal) {
      requirePermission(actor, 'users:manage');
      return users.list();
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
