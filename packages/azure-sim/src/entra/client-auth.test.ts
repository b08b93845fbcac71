/** Client assertion and secret checks of the token endpoint, without HTTP. */
import { createHash, createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDn, pemEncode, randomSerial, signCertificate, spkiOf } from '@certbridge/pki';
import { certificateCredential, Directory, type AppRecord } from '../directory.ts';
import { authenticateClient } from './client-auth.ts';
import { EntraError } from './errors.ts';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const AUD = 'https://127.0.0.1:1/t1/oauth2/v2.0/token';
const TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const certDer = signCertificate({ serialNumber: randomSerial(), subject: parseDn('CN=assertion'), spkiDer: spkiOf(keys.publicKey), notBefore: new Date(NOW - 86_400_000), notAfter: new Date(NOW + 86_400_000) }, { selfSigned: keys.privateKey });
const x5t = createHash('sha1').update(certDer).digest('base64url');

function setup(): { dir: Directory; app: AppRecord } {
  const dir = new Directory({ now: () => NOW });
  const app: AppRecord = {
    tenantId: 't1', appId: 'a1b2c3d4-0000-4000-8000-000000000001', objectId: randomUUID(), servicePrincipalId: randomUUID(), displayName: 'x', createdDateTime: new Date(NOW),
    redirectUris: [], passwordCredentials: [], keyCredentials: [certificateCredential(pemEncode('CERTIFICATE', certDer))], graphRoles: new Set(), owners: new Set(),
  };
  dir.addPassword(app, { secret: 'right-secret-value', propagate: false });
  return { dir, app };
}

function assertion(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ alg: 'RS256', typ: 'JWT', ...header })}.${enc(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(keys.privateKey).toString('base64url')}`;
}

const good = (app: AppRecord) => ({ aud: AUD, iss: app.appId, sub: app.appId, exp: NOW / 1000 + 600, nbf: NOW / 1000, jti: randomUUID() });

function codeOf(fn: () => void): number | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof EntraError) return e.code;
    throw e;
  }
}

describe('authenticateClient', () => {
  it.each([
    ['ok/RS256 assertion with a SHA-1 x5t', (a: AppRecord) => ({ assertion: assertion({ x5t }, good(a)), assertionType: TYPE }), 'ok'],
    ['fail/assertion type missing', (a: AppRecord) => ({ assertion: assertion({ x5t }, good(a)) }), 50012],
    ['fail/not a JWT', () => ({ assertion: 'abc', assertionType: TYPE }), 50027],
    ['fail/unknown thumbprint', (a: AppRecord) => ({ assertion: assertion({ x5t: Buffer.alloc(20, 7).toString('base64url') }, good(a)), assertionType: TYPE }), 700027],
    ['fail/alg none', (a: AppRecord) => ({ assertion: assertion({ x5t, alg: 'none' }, good(a)), assertionType: TYPE }), 700027],
    ['fail/issuer is another app', (a: AppRecord) => ({ assertion: assertion({ x5t }, { ...good(a), iss: randomUUID() }), assertionType: TYPE }), 700021],
    ['fail/audience is not the token endpoint', (a: AppRecord) => ({ assertion: assertion({ x5t }, { ...good(a), aud: 'https://elsewhere.example/token' }), assertionType: TYPE }), 700212],
    ['fail/expired assertion', (a: AppRecord) => ({ assertion: assertion({ x5t }, { ...good(a), exp: NOW / 1000 - 3600 }), assertionType: TYPE }), 700024],
    ['ok/right secret', () => ({ secret: 'right-secret-value' }), 'ok'],
    ['fail/wrong secret', () => ({ secret: 'right-secret-valuE' }), 7000215],
    ['fail/no credential', () => ({}), 7000218],
  ])('%s', (_name, creds, expected) => {
    const { dir, app } = setup();
    expect(codeOf(() => authenticateClient(dir, app, creds(app), [AUD]))).toBe(expected);
  });

  it('fail/a tampered signature is AADSTS700027', () => {
    const { dir, app } = setup();
    const jwt = assertion({ x5t }, good(app));
    const tampered = `${jwt.slice(0, -4)}${jwt.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect(codeOf(() => authenticateClient(dir, app, { assertion: tampered, assertionType: TYPE }, [AUD]))).toBe(700027);
  });
});
