/**
 * Kerberos through SPNEGO (`Authorization: Negotiate <token>`, RFC 4559) with the npm
 * `kerberos` addon (MIT GSSAPI underneath). The ticket comes from a private cache filled by
 * kinit with the connection's password or keytab (kinit.ts).
 *
 * `kerberos` uses Kerberos only. `negotiate` tries Kerberos and, when no ticket can be had (no
 * KDC, unknown realm), falls back to NTLM inside the Negotiate scheme, which IIS accepts.
 * The server's mutual-authentication token in the 200 answer is not verified: the TLS
 * certificate already authenticates the server.
 */
import type * as KerberosModule from 'kerberos';
import { AdcsError, isAdcsError } from '../errors.ts';
import type { NormalisedOptions } from '../options.ts';
import { ntlmAuth } from './ntlm/http-ntlm.ts';
import type { SelectOptions } from './select.ts';
import { TicketCache, withKrb5Env } from './kinit.ts';
import type { AuthHandshake, AuthMechanism } from './types.ts';

type Kerberos = typeof KerberosModule;

async function loadKerberos(): Promise<Kerberos> {
  try {
    const mod = (await import('kerberos')) as Kerberos & { default?: Kerberos };
    return mod.default ?? mod;
  } catch (cause) {
    throw new AdcsError('ADCS_AUTH_FAILED', 'the kerberos addon is not available (npm rebuild kerberos; Debian libkrb5-dev)', { cause });
  }
}

/** Builds the Negotiate mechanism; the ticket is acquired lazily on the first handshake. */
export async function kerberosAuth(options: NormalisedOptions, select: SelectOptions = {}): Promise<AuthMechanism> {
  const tickets = new TicketCache({
    username: options.username,
    password: options.password,
    realm: options.domain,
    ...(options.keytab ? { keytab: options.keytab } : {}),
    ...(options.krb5Config ? { krb5Config: options.krb5Config } : {}),
    ...(options.kdcs ? { kdcs: options.kdcs, serviceHost: options.origin.hostname } : {}),
  });
  const spn = options.servicePrincipal ?? `HTTP@${options.origin.hostname}`;
  const fallback = options.auth === 'negotiate'
    ? ntlmAuth({ username: options.username, password: options.password, domain: options.domain }, {
      host: options.origin.hostname, scheme: 'Negotiate', ...(select.channelBindings === false ? { channelBindings: false } : {}),
    })
    : undefined;

  async function token(): Promise<string> {
    const kerberos = await loadKerberos();
    const env = await tickets.env();
    const once = (): Promise<string> => withKrb5Env(env, async () => {
      const client = await kerberos.initializeClient(spn, { mechOID: kerberos.GSS_MECH_OID_SPNEGO });
      return client.step('');
    });
    await tickets.ensure();
    try {
      return await once();
    } catch {
      // An expired or missing ticket: get a new one and try once more.
      await tickets.ensure(true);
      try {
        return await once();
      } catch (error) {
        throw new AdcsError('ADCS_AUTH_FAILED', `Kerberos could not build a token for ${spn}: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  return {
    kind: options.auth,
    scheme: 'Negotiate',
    close: () => tickets.destroy(),
    startHandshake: (): AuthHandshake => {
      let legs = 0;
      let viaNtlm: AuthHandshake | undefined;
      return {
        async step(challenges, socket) {
          legs += 1;
          if (viaNtlm) return viaNtlm.step(challenges, socket);
          // A 401 after our AP-REQ is a rejection; Kerberos has no second leg here.
          if (legs > 1) return undefined;
          try {
            return `Negotiate ${await token()}`;
          } catch (error) {
            if (!fallback?.startHandshake || (isAdcsError(error) && error.code === 'ADCS_AUTH_FAILED' && /refused/.test(error.message))) throw error;
            viaNtlm = fallback.startHandshake();
            return viaNtlm.step(undefined, socket);
          }
        },
      };
    },
  };
}
