import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildCsr, generateKeyPair, parseCertificate, parseDn, pemEncode } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, bearer, createTestEnv, type TestEnv } from './helpers.ts';

const csrPem = (cn: string) => {
  const pair = generateKeyPair('EC-P256');
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }], privateKey: pair.privateKey, publicKey: pair.publicKey }));
};

describe.each(ENGINES)('inventory, renewal and OCSP on %s', (engine) => {
  let env: TestEnv;
  let dir: string;
  beforeAll(async () => {
    env = await createTestEnv(engine);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cb-ocsp-'));
  });
  afterAll(async () => {
    await env?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const issue = async (cn: string) => {
    const res = await env.app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers: bearer(env.adminToken), payload: { profile: 'default-tls', csr: csrPem(cn) } });
    expect(res.statusCode).toBe(201);
    return res.json().certificate as { id: string; serial: string; caId: string; certificate: string; chain: string[] };
  };

  it('ok/keyset pages cover every certificate exactly once, newest first', async () => {
    const ids = [];
    for (let i = 0; i < 7; i += 1) ids.push((await issue(`page-${i}.${engine}.test`)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/certificates?limit=3&q=.${engine}.test${cursor ? `&cursor=${cursor}` : ''}`;
      const body: { items: { id: string }[]; nextCursor: string | null } = (await env.app.inject({ method: 'GET', url, headers: bearer(env.adminToken) })).json();
      seen.push(...body.items.map((c) => c.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('ok/renewal reusing the CSR keeps subject, SANs and key and links the old certificate', async () => {
    const old = await issue(`renew.${engine}.test`);
    const res = await env.app.inject({ method: 'POST', url: `/api/v1/certificates/${old.id}/renew`, headers: bearer(env.adminToken), payload: {} });
    expect(res.statusCode).toBe(201);
    const fresh = res.json().certificate;
    const [a, b] = [parseCertificate(old.certificate), parseCertificate(fresh.certificate)];
    expect([b.subjectText, b.sans, Buffer.from(b.spkiDer).equals(Buffer.from(a.spkiDer)), fresh.renewedFromId, fresh.serial === old.serial])
      .toEqual([a.subjectText, a.sans, true, old.id, false]);
  });

  it('ok/a delegated OCSP responder signs answers that openssl accepts', async () => {
    const cert = await issue(`ocsp.${engine}.test`);
    const patch = await env.app.inject({ method: 'PATCH', url: `/api/v1/cas/${cert.caId}`, headers: bearer(env.adminToken), payload: { ocspSigning: 'delegated' } });
    expect(patch.json().ocspSigning).toBe('delegated');
    await fs.writeFile(path.join(dir, 'leaf.pem'), cert.certificate);
    await fs.writeFile(path.join(dir, 'issuer.pem'), cert.chain[0]!);
    await fs.writeFile(path.join(dir, 'roots.pem'), cert.chain.join(''));
    execFileSync('openssl', ['ocsp', '-issuer', 'issuer.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'req.der'], { cwd: dir, stdio: 'pipe' });
    const res = await env.app.inject({ method: 'POST', url: `/ocsp/${cert.caId}`, headers: { 'content-type': 'application/ocsp-request' }, payload: await fs.readFile(path.join(dir, 'req.der')) });
    expect(res.headers['content-type']).toBe('application/ocsp-response');
    await fs.writeFile(path.join(dir, 'resp.der'), res.rawPayload);
    const out = execFileSync('openssl', ['ocsp', '-respin', 'resp.der', '-issuer', 'issuer.pem', '-cert', 'leaf.pem', '-CAfile', 'roots.pem', '-no_nonce', '-resp_text'], { cwd: dir, stdio: 'pipe' }).toString();
    expect(out).toMatch(/Subject: CN=OCSP Responder for Certbridge Intermediate CA[\s\S]*leaf.pem: good/);
  });
});
