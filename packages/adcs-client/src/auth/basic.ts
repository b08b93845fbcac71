/**
 * HTTP Basic (RFC 7617) for certsrv sites that enable it (only over TLS). The user is sent as
 * `DOMAIN\user` when a domain is configured, as IIS expects for domain accounts.
 */
import type { AuthMechanism } from './types.ts';

export interface BasicCredentials {
  username: string;
  password: string;
  domain?: string;
}

export function basicAuth(credentials: BasicCredentials): AuthMechanism {
  const hasPrefix = credentials.username.includes('\\') || credentials.username.includes('@');
  const user = credentials.domain && !hasPrefix ? `${credentials.domain}\\${credentials.username}` : credentials.username;
  const header = `Basic ${Buffer.from(`${user}:${credentials.password}`, 'utf8').toString('base64')}`;
  return { kind: 'basic', scheme: 'Basic', staticHeader: () => header };
}
