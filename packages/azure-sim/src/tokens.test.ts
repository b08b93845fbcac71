/** Access token issuing and checking: signature, lifetime with five minutes of skew, audience. */
import { describe, expect, it } from 'vitest';
import { TokenService } from './tokens.ts';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const subject = { tenantId: 't1', appId: 'a1', resource: 'https://vault.azure.net', oid: 'o1', roles: ['r'], lifetimeSeconds: 3600 };

describe('TokenService', () => {
  it('ok/an issued token verifies with its claims', () => {
    const s = new TokenService({ now: () => NOW });
    const check = s.verify(s.issue(subject).token, 'https://vault.azure.net');
    expect(check).toEqual({ ok: true, claims: { aud: 'https://vault.azure.net', iss: 'https://sts.windows.net/t1/', tid: 't1', appid: 'a1', oid: 'o1', exp: NOW / 1000 + 3600, nbf: NOW / 1000, roles: ['r'], scp: [], idtyp: 'app' } });
  });

  it.each([
    ['ok/expired by less than the five-minute skew', NOW + 3600_000 + 299_000, 'https://vault.azure.net', true],
    ['fail/expired beyond the skew', NOW + 3600_000 + 300_000, 'https://vault.azure.net', 'expired'],
    ['fail/other audience', NOW, 'https://graph.microsoft.com', 'audience'],
    ['fail/not yet valid', NOW - 301_000, 'https://vault.azure.net', 'not-yet-valid'],
  ])('%s', (_name, checkAt, audience, expected) => {
    let now = NOW;
    const s = new TokenService({ now: () => now });
    const token = s.issue(subject).token;
    now = checkAt;
    const check = s.verify(token, audience);
    expect(check.ok ? true : check.reason).toBe(expected);
  });

  it.each([
    ['fail/token of another emulator instance', () => new TokenService({ now: () => NOW }).issue(subject).token, 'signature'],
    ['fail/not a JWT', () => 'abc.def', 'malformed'],
  ])('%s', (_name, make, reason) => {
    const check = new TokenService({ now: () => NOW }).verify(make(), 'https://vault.azure.net');
    expect(check.ok ? 'ok' : check.reason).toBe(reason);
  });
});
