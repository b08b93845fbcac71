/**
 * Builds the AuthMechanism for the configured `auth` kind. Kerberos is loaded lazily so the
 * native `kerberos` addon is only required by connections that use it.
 */
import type { NormalisedOptions } from '../options.ts';
import { basicAuth } from './basic.ts';
import { ntlmAuth } from './ntlm/http-ntlm.ts';
import type { AuthMechanism } from './types.ts';

export interface SelectOptions {
  /** NTLM only: send channel bindings (default true). */
  channelBindings?: boolean;
}

export async function selectAuth(options: NormalisedOptions, select: SelectOptions = {}): Promise<AuthMechanism> {
  const credentials = { username: options.username, password: options.password, domain: options.domain };
  const host = options.origin.hostname;
  switch (options.auth) {
    case 'basic':
      return basicAuth(credentials);
    case 'ntlm':
      return ntlmAuth(credentials, { host, ...(select.channelBindings === false ? { channelBindings: false } : {}) });
    case 'kerberos':
    case 'negotiate': {
      const { kerberosAuth } = await import('./kerberos.ts');
      return kerberosAuth(options, select);
    }
  }
}
