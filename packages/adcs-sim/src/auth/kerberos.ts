/**
 * Negotiate (RFC 4559) with Kerberos through SPNEGO, accepted by MIT GSS-API via the npm
 * `kerberos` addon, the way IIS accepts tickets for HTTP/<host> with the site's keytab
 * ([MS-SPNG], RFC 4178). The authenticated principal `user@REALM` maps to the configured
 * account `user` when REALM is this domain's realm.
 *
 * The keytab is handed to GSS-API through `KRB5_KTNAME`, which is process-wide: instances in
 * one process share one keytab. SPNEGO tokens that wrap NTLM are handled by the NTLM acceptor
 * (auth/gate.ts), not here.
 */
import type { SimConfig } from '../config.ts';
import type { NegotiateAcceptor } from './gate.ts';

interface KerberosServer {
  username: string;
  response: string;
  contextComplete: boolean;
  step(challenge: string): Promise<string>;
}

interface KerberosModule {
  initializeServer(service: string): Promise<KerberosServer>;
}

async function loadKerberos(): Promise<KerberosModule> {
  try {
    const mod: { default?: KerberosModule } & Partial<KerberosModule> = await import('kerberos');
    const k = mod.initializeServer ? (mod as KerberosModule) : mod.default;
    if (!k) throw new Error('no initializeServer export');
    return k;
  } catch (err) {
    throw new Error(`Negotiate needs the native npm package "kerberos" (built against libkrb5-dev): ${(err as Error).message}`);
  }
}

export async function createKerberosAcceptor(config: SimConfig): Promise<NegotiateAcceptor> {
  const kerberos = await loadKerberos();
  if (config.auth.keytab) process.env.KRB5_KTNAME = `FILE:${config.auth.keytab.replace(/^FILE:/, '')}`;
  const service = config.auth.servicePrincipal ?? `HTTP@${config.host}`;
  const realm = (config.auth.realm ?? config.dnsDomain).toUpperCase();
  return {
    async accept(token: Buffer) {
      // One GSS context per token: Kerberos via SPNEGO completes in a single leg for HTTP.
      const server = await kerberos.initializeServer(service);
      await server.step(token.toString('base64'));
      if (!server.contextComplete) return undefined;
      const at = server.username.lastIndexOf('@');
      const name = at < 0 ? server.username : server.username.slice(0, at);
      const principalRealm = at < 0 ? realm : server.username.slice(at + 1).toUpperCase();
      if (principalRealm !== realm) return undefined;
      const user = config.users.find((u) => u.name.toLowerCase() === name.toLowerCase());
      const output = server.response ? Buffer.from(server.response, 'base64') : undefined;
      return user ? { user, output } : undefined;
    },
  };
}
