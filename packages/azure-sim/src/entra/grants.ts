/**
 * Authorization codes and refresh tokens. Codes live ten minutes and redeem once (Entra's
 * AADSTS54005 on reuse); each refresh returns a new refresh token while the old one stays
 * valid until it expires or the user's sessions are revoked, as Entra behaves.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../directory.ts';

export interface CodeGrant {
  tenantId: string;
  appId: string;
  redirectUri: string;
  scope: string;
  userOid: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  expiresAt: number;
  redeemed: boolean;
}

export interface RefreshGrant {
  tenantId: string;
  appId: string;
  userOid: string;
  scope: string;
  issuedAt: number;
  expiresAt: number;
}

const CODE_TTL_MS = 10 * 60_000;
/** Entra's refresh token inactivity lifetime. */
const REFRESH_TTL_MS = 90 * 86_400_000;

function opaque(prefix: string): string {
  return `${prefix}${randomBytes(48).toString('base64url')}`;
}

export class Grants {
  private readonly codes = new Map<string, CodeGrant>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();

  constructor(private readonly clock: Clock) {}

  issueCode(g: Omit<CodeGrant, 'expiresAt' | 'redeemed'>): string {
    const code = opaque('1.A');
    this.codes.set(code, { ...g, expiresAt: this.clock.now() + CODE_TTL_MS, redeemed: false });
    return code;
  }

  code(code: string): CodeGrant | undefined {
    return this.codes.get(code);
  }

  issueRefresh(g: Omit<RefreshGrant, 'issuedAt' | 'expiresAt'>): string {
    const now = this.clock.now();
    const token = opaque('0.A');
    this.refreshTokens.set(token, { ...g, issuedAt: now, expiresAt: now + REFRESH_TTL_MS });
    return token;
  }

  refresh(token: string): RefreshGrant | undefined {
    return this.refreshTokens.get(token);
  }
}
