import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { appendAudit } from '../../audit/audit-log.ts';
import type { Principal } from '../../auth/principal.ts';
import { can, requirePermission } from '../../auth/rbac.ts';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { Database } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import type { UsersRepository } from '../../repositories/users-repository.ts';
import { azureTransport, resolveCloud, resources } from './azure-clouds.ts';
import type { AzureConnectionService } from './azure-connection-service.ts';
import { hashState, type AzureConnectionsRepository } from './azure-connections-repository.ts';
import { oauthEnvPrefix, type OauthApps } from './azure-credentials.ts';
import { describeError } from './azure-errors.ts';
import { checkCaPem, type OauthStartInput } from './azure-schemas.ts';
import { sealContext, type AzureConnectionRow, type AzureConnectionType, type OauthRequest } from './azure-tables.ts';
import { msalApp } from './msal-app.ts';

/** A started sign-in must come back within this time (Entra's own codes live 10 minutes). */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;
export const OAUTH_CALLBACK_PATH = '/api/v1/connections/azure/oauth/callback';

/** Delegated permissions each connection type asks for (msal-node adds openid, profile, offline_access). */
const SCOPES = {
  'azure-client-secrets': (r) => [`${r.graph}/Application.ReadWrite.All`, `${r.graph}/User.Read`],
  'azure-key-vault': (r) => [`${r.vault}/user_impersonation`],
} satisfies Record<AzureConnectionType, (r: { graph: string; vault: string }) => string[]>;

export interface CallbackQuery { state?: string | undefined; code?: string | undefined; error?: string | undefined; error_description?: string | undefined }

/**
 * The OAuth method (authorization code + PKCE, RFC 7636) with the server's own Azure app:
 * `start` records a single-use state bound to the user, PKCE verifier sealed, and returns the
 * authorize URL; `callback` takes the state once, redeems the code through msal-node and stores
 * its token cache (refresh token included) sealed on the new connection.
 */
export function createAzureOauth(deps: {
  db: Kysely<Database>; repo: AzureConnectionsRepository; users: UsersRepository; sealer: Sealer; clock: Clock;
  oauthApps: OauthApps; publicUrl: string | undefined; service: AzureConnectionService;
}) {
  const { repo, sealer, clock } = deps;
  const redirectUri = () => {
    if (!deps.publicUrl) throw new AppError('NOT_SUPPORTED', 'CERTBRIDGE_PUBLIC_URL is not known to this process, so there is no OAuth redirect URI');
    return `${deps.publicUrl.replace(/\/+$/, '')}${OAUTH_CALLBACK_PATH}`;
  };
  const appFor = (type: AzureConnectionType) => {
    const app = deps.oauthApps[type];
    if (!app) throw new AppError('NOT_SUPPORTED', `OAuth for ${type} connections needs ${oauthEnvPrefix(type)}_CLIENT_ID and ${oauthEnvPrefix(type)}_CLIENT_SECRET on the server`);
    return app;
  };
  const msalFor = (req: OauthRequest, tenantId: string, cache?: { data: string | null }) => {
    const transport = azureTransport(req.caPem);
    return {
      transport,
      app: msalApp({
        cloud: { authorityHost: req.authorityHost, graphUrl: req.graphUrl, vaultUrlTemplate: req.vaultUrlTemplate }, tenantId, ...appFor(req.type), agent: transport.agent,
        ...(cache ? { cache: { load: async () => cache.data, save: async (s: string) => void (cache.data = s) } } : {}),
      }),
    };
  };

  return {
    redirectUri,

    async start(actor: Principal, input: OauthStartInput): Promise<{ authorizeUrl: string; state: string; expiresAt: Date; redirectUri: string }> {
      requirePermission(actor, 'connections:manage');
      appFor(input.type);
      const cloud = resolveCloud(input);
      checkCaPem(input.caPem);
      await deps.service.assertNameFree(input.name);
      const request: OauthRequest = {
        name: input.name, type: input.type, tenantId: input.tenantId ?? 'organizations', authorityHost: cloud.authorityHost, caPem: input.caPem ?? null,
        graphUrl: cloud.graphUrl, vaultUrlTemplate: cloud.vaultUrlTemplate, vaultName: input.vaultName ?? null, loginHint: input.loginHint ?? null, returnTo: input.returnTo ?? null,
      };
      const state = randomBytes(32).toString('base64url');
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const expiresAt = new Date(clock.now().getTime() + OAUTH_STATE_TTL_MS);
      const stateHash = hashState(state);
      await repo.insertState({ state_hash: stateHash, user_id: actor.userId, request: JSON.stringify(request), code_verifier_sealed: sealer.seal(verifier, sealContext.codeVerifier(stateHash)), expires_at: expiresAt });
      const { app, transport } = msalFor(request, request.tenantId);
      try {
        const authorizeUrl = await app.getAuthCodeUrl({
          scopes: SCOPES[request.type](resources(request.authorityHost)), redirectUri: redirectUri(), state, codeChallenge: challenge, codeChallengeMethod: 'S256',
          ...(request.loginHint ? { loginHint: request.loginHint } : {}),
        });
        return { authorizeUrl, state, expiresAt, redirectUri: redirectUri() };
      } finally {
        transport.agent?.destroy();
      }
    },

    /**
     * Completes a sign-in. Public route: Entra's redirect is a cross-site navigation that carries
     * no SameSite=Strict session cookie, so the state (random, single use, 10 minutes) stands for
     * the user who started it, and that user must still be allowed to manage connections.
     */
    async callback(q: CallbackQuery): Promise<{ connection: AzureConnectionRow; returnTo: string | null }> {
      if (!q.state) throw new AppError('VALIDATION_FAILED', 'the OAuth callback has no state', { field: 'state' });
      const taken = await repo.takeState(q.state, clock.now());
      if (!taken) throw new AppError('BAD_REQUEST', 'unknown or already used OAuth state: start the sign-in again', { reason: 'state_mismatch' });
      if (taken.expired) throw new AppError('BAD_REQUEST', 'the OAuth sign-in took longer than 10 minutes: start it again', { reason: 'state_expired' });
      const user = await deps.users.findById(taken.userId);
      const actor: Principal | undefined = user && !user.disabled ? { userId: user.id, username: user.username, role: user.role, via: 'session' } : undefined;
      if (!actor || !can(actor, 'connections:manage')) throw new AppError('FORBIDDEN', 'the user who started this sign-in may no longer manage connections');
      const req = taken.request;
      const fail = async (reason: string, message: string, details: Record<string, unknown>) => {
        await deps.db.transaction().execute((trx) => appendAudit(trx, { actor, action: 'connection.oauth', resourceType: 'connection', resourceId: null, outcome: 'failure', details: { name: req.name, type: req.type, reason, ...details } }, clock));
        return new AppError('BAD_REQUEST', message, { reason, ...details });
      };
      if (q.error) throw await fail('consent_denied', `Azure sign-in ended with ${q.error}: ${(q.error_description ?? '').split(' Trace ID')[0]}`, { azureError: q.error });
      if (!q.code) throw await fail('no_code', 'the OAuth callback has neither code nor error', {});
      await deps.service.assertNameFree(req.name);
      const cache = { data: null as string | null };
      const { app, transport } = msalFor(req, req.tenantId, cache);
      let result;
      try {
        result = await app.acquireTokenByCode({ code: q.code, redirectUri: redirectUri(), scopes: SCOPES[req.type](resources(req.authorityHost)), codeVerifier: sealer.openText(taken.codeVerifierSealed, sealContext.codeVerifier(taken.stateHash)) });
      } catch (err) {
        throw await fail('code_redemption_failed', `Azure refused the authorization code: ${describeError(err)}`, {});
      } finally {
        transport.agent?.destroy();
      }
      if (!result.account || !cache.data) throw await fail('no_account', 'Azure answered without an account or refresh token (offline_access)', {});
      const id = randomUUID();
      const tenantId = result.tenantId || req.tenantId;
      const row = await deps.db.transaction().execute(async (trx) => {
        const inserted = await repo.insert(trx, {
          id, name: req.name, type: req.type, method: 'oauth', tenant_id: tenantId, client_id: appFor(req.type).clientId, authority_host: req.authorityHost, ca_pem: req.caPem,
          graph_url: req.graphUrl, vault_url_template: req.vaultUrlTemplate, vault_name: req.vaultName,
          oauth_cache_sealed: sealer.seal(cache.data!, sealContext.oauthCache(id)), oauth_account_id: result.account!.homeAccountId, oauth_username: result.account!.username,
        });
        await appendAudit(trx, { actor, action: 'connection.create', resourceType: 'connection', resourceId: id, outcome: 'success', details: { name: req.name, type: req.type, method: 'oauth', tenantId, signedInAs: result.account!.username } }, clock);
        return inserted;
      });
      return { connection: row, returnTo: req.returnTo };
    },
  };
}

export type AzureOauth = ReturnType<typeof createAzureOauth>;
