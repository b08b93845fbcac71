/**
 * Connector registration rules on a real database (service level, clock moved by the test):
 * one-time token, short expiry, revoked connectors, superseded and foreign client certificates.
 */
import { buildCsr, generateKeyPair, parseDn, pemEncode, randomSerial, signCertificate, spkiOf } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../src/auth/principal.ts';
import { movableClock } from './adcs-fixtures.ts';
import { createTestEnv, ENGINES, type TestEnv } from './helpers.ts';

const csr = () => {
  const pair = generateKeyPair('EC-P256');
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn('CN=connector'), privateKey: pair.privateKey, publicKey: pair.publicKey }));
};
const derOf = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));

describe.each(ENGINES)('connector registration on %s', (engine) => {
  let env: TestEnv;
  const clock = movableClock();
  const service = () => env.core.connectors.service;
  let n = 0;
  const create = () => service().create(SYSTEM_PRINCIPAL, { name: `c${n++}`, site: 'lab' });

  beforeAll(async () => {
    env = await createTestEnv(engine, { clock });
  });
  afterAll(async () => {
    await env?.close();
  });

  it.each([
    ['fail/not-a-token', async () => 'nonsense', 'not a connector registration token'],
    ['fail/unknown-token', async () => `cbc1.${'A'.repeat(43)}.${'0'.repeat(64)}`, 'unknown or was already used'],
    ['fail/used-token', async () => {
      const { token } = await create();
      await service().register({ token, csrPem: csr() });
      return token;
    }, 'unknown or was already used'],
    ['fail/expired-token', async () => {
      const { token } = await create();
      clock.advance(61 * 60_000);
      return token;
    }, 'has expired'],
    ['fail/revoked-before-registration', async () => {
      const { token, connector } = await create();
      await service().revoke(SYSTEM_PRINCIPAL, connector.id);
      return token;
    }, 'unknown or was already used'],
  ])('%s', async (_name, tokenOf, message) => {
    const token = await tokenOf();
    await expect(service().register({ token, csrPem: csr() })).rejects.toThrow(message);
  });

  it('ok/client-certificate-authenticates-the-connector', async () => {
    const { token, connector } = await create();
    const reg = await service().register({ token, csrPem: csr(), version: '0.1.0' });
    const auth = await service().authenticate(derOf(reg.certificatePem));
    expect(auth.ok ? { id: auth.connector.id, status: auth.connector.status, version: auth.connector.version } : auth).toEqual({ id: connector.id, status: 'active', version: '0.1.0' });
  });

  it.each([
    ['fail/no-certificate', async () => undefined, 'no client certificate'],
    ['fail/foreign-certificate', async () => {
      const pair = generateKeyPair('EC-P256');
      const now = clock.now();
      return signCertificate({ serialNumber: randomSerial(), subject: parseDn('CN=00000000-0000-0000-0000-000000000000'), spkiDer: spkiOf(pair.publicKey), notBefore: now, notAfter: new Date(now.getTime() + 86_400_000) }, { selfSigned: pair.privateKey });
    }, 'not issued by the Connector CA'],
    ['fail/superseded-certificate', async () => {
      const { token, connector } = await create();
      const first = await service().register({ token, csrPem: csr() });
      const again = await service().newToken(SYSTEM_PRINCIPAL, connector.id);
      await service().register({ token: again.token, csrPem: csr() });
      return derOf(first.certificatePem);
    }, 'superseded certificate'],
    ['fail/revoked-connector', async () => {
      const { token, connector } = await create();
      const reg = await service().register({ token, csrPem: csr() });
      await service().revoke(SYSTEM_PRINCIPAL, connector.id);
      return derOf(reg.certificatePem);
    }, 'is revoked'],
  ])('%s', async (_name, certOf, reason) => {
    const auth = await service().authenticate(await certOf());
    expect(auth.ok ? 'accepted' : auth.reason).toContain(reason);
  });
});
