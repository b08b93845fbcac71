/**
 * The /sim/ admin API, the state file across restarts, CA flags, revocation → CRL, and faults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdcsSim, type AdcsSim } from '../src/index.ts';
import { ADMIN_TOKEN, https, makeCsr, newreqForm, tempDir, testConfig, x509 } from './helpers.ts';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let csr: string;

beforeAll(async () => {
  tmp = await tempDir();
  csr = await makeCsr('app.corp.example.test', ['app.corp.example.test']);
});
afterAll(async () => tmp.cleanup());

function submit(sim: AdcsSim, attrib: string, user = 'CORP\\alice', body?: string) {
  return https(`${sim.url}certfnsh.asp`, { ca: sim.tlsCaPem, method: 'POST', user, body: body ?? newreqForm(csr, attrib) });
}

function idOf(text: string): number {
  return Number((/certnew\.cer\?ReqID=(\d+)&/.exec(text) ?? /Your Request Id is (\d+)\./.exec(text))?.[1] ?? -1);
}

function admin(sim: AdcsSim, method: string, path: string, body?: unknown, token = ADMIN_TOKEN) {
  return https(`${sim.baseUrl}${path}`, {
    ca: sim.tlsCaPem,
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('state file', () => {
  it('ok/restart keeps the CA, request ids and pending requests', async () => {
    const stateFile = `${tmp.dir}/state.json`;
    const first = await startAdcsSim(testConfig({ stateFile }));
    const pendingId = idOf((await submit(first, 'CertificateTemplate:ManagerApproval')).text);
    const ca = first.issuingCaPem;
    await first.stop();
    const second = await startAdcsSim(testConfig({ stateFile }));
    const nextId = idOf((await submit(second, 'CertificateTemplate:WebServer')).text);
    const approved = await second.approve(pendingId);
    await second.stop();
    expect({ sameCa: second.issuingCaPem === ca, next: nextId - pendingId, approved: approved.ok && approved.record.disposition }).toEqual({
      sameCa: true,
      next: 1,
      approved: 'issued',
    });
  });
});

describe('several instances', () => {
  it('ok/two instances run side by side with their own ports, CAs and request ids', async () => {
    const [a, b] = await Promise.all([startAdcsSim(testConfig()), startAdcsSim(testConfig())]);
    const ids = [idOf((await submit(a, 'CertificateTemplate:WebServer')).text), idOf((await submit(b, 'CertificateTemplate:WebServer')).text)];
    await Promise.all([a.stop(), b.stop()]);
    expect({ ports: a.port !== b.port, cas: a.issuingCaPem !== b.issuingCaPem, ids }).toEqual({ ports: true, cas: true, ids: [2, 2] });
  });
});

describe('/sim/ admin API', () => {
  let sim: AdcsSim;
  beforeAll(async () => {
    sim = await startAdcsSim(testConfig());
  });
  afterAll(async () => sim.stop());

  it('fail/wrong bearer token → 401 problem document', async () => {
    const r = await admin(sim, 'GET', '/sim/requests', undefined, 'wrong-token-wrong-token-wrong');
    expect([r.status, r.headers['content-type'], (JSON.parse(r.text) as { title: string }).title]).toEqual([401, 'application/problem+json', 'UNAUTHORIZED']);
  });

  it('ok/list filters by disposition', async () => {
    const id = idOf((await submit(sim, 'CertificateTemplate:ManagerApproval')).text);
    const r = await admin(sim, 'GET', '/sim/requests?disposition=pending');
    expect((JSON.parse(r.text) as Array<{ id: number }>).map((x) => x.id)).toContain(id);
  });

  it.each([
    ['fail/approve an unknown request → 404', 'POST', '/sim/requests/424242/approve', 404],
    ['fail/unknown admin route → 404', 'GET', '/sim/nothing-here', 404],
  ])('%s', async (_n, method, path, status) => {
    expect((await admin(sim, method, path)).status).toBe(status);
  });

  it('fail/deny an issued request → 409', async () => {
    const id = idOf((await submit(sim, 'CertificateTemplate:WebServer')).text);
    expect((await admin(sim, 'POST', `/sim/requests/${id}/deny`)).status).toBe(409);
  });

  it('ok/revoke puts the serial on certcrl.crl', async () => {
    const id = idOf((await submit(sim, 'CertificateTemplate:WebServer')).text);
    await admin(sim, 'POST', `/sim/requests/${id}/revoke`, { reason: 1 });
    const crlRes = await https(`${sim.url}certcrl.crl?Type=base&Renewal=0&Enc=bin`, { ca: sim.tlsCaPem, user: 'alice' });
    const crl = new x509.X509Crl(new Uint8Array(crlRes.body));
    const serial = sim.getRequest(id)?.serialNumber ?? '';
    expect([crlRes.headers['content-type'], crl.findRevoked(serial)?.reason, await crl.verify({ publicKey: new x509.X509Certificate(sim.issuingCaPem) })]).toEqual([
      'application/pkix-crl',
      1,
      true,
    ]);
  });

  it('fail/invalid ca-flags body → 400', async () => {
    expect((await admin(sim, 'PUT', '/sim/ca-flags', { attributeEndDate: 'yes' })).status).toBe(400);
  });
});

describe('CA flags', () => {
  let sim: AdcsSim;
  beforeAll(async () => {
    sim = await startAdcsSim(testConfig());
  });
  afterAll(async () => sim.stop());

  async function issued(attrib: string): Promise<x509.X509Certificate> {
    const id = idOf((await submit(sim, attrib)).text);
    return new x509.X509Certificate(Buffer.from(sim.getRequest(id)?.certificate ?? '', 'base64'));
  }
  const sanOf = (c: x509.X509Certificate) => c.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON().map((n) => n.value);

  it.each([
    ['ok/EDITF_ATTRIBUTESUBJECTALTNAME2 on: SAN attribute replaces the request SAN', true, ['other.corp.example.test', 'x.corp.example.test']],
    ['ok/EDITF_ATTRIBUTESUBJECTALTNAME2 off: SAN attribute ignored', false, ['app.corp.example.test']],
  ])('%s', async (_n, on, names) => {
    sim.setCaFlags({ attributeEndDate: true, attributeSubjectAltName2: on });
    const cert = await issued('CertificateTemplate:WebServer\nSAN:dns=other.corp.example.test&dns=x.corp.example.test');
    expect(sanOf(cert)).toEqual(names);
  });

  it.each([
    ['ok/EDITF_ATTRIBUTEENDDATE on: ExpirationDate honoured', true, '2027-01-01T00:00:00.000Z'],
    ['ok/EDITF_ATTRIBUTEENDDATE off: template validity (730 days)', false, 'template'],
  ])('%s', async (_n, on, want) => {
    sim.setCaFlags({ attributeEndDate: on, attributeSubjectAltName2: false });
    const cert = await issued('CertificateTemplate:WebServer\nExpirationDate:Fri, 01 Jan 2027 00:00:00 GMT');
    const days = Math.round((cert.notAfter.getTime() - cert.notBefore.getTime()) / 86_400_000);
    expect(want === 'template' ? days : cert.notAfter.toISOString()).toBe(want === 'template' ? 730 : want);
  });

  it('ok/V1 template writes the 1.3.6.1.4.1.311.20.2 template-name extension', async () => {
    const cert = await issued('CertificateTemplate:WebServer');
    expect(Buffer.from(cert.getExtension('1.3.6.1.4.1.311.20.2')?.value ?? new ArrayBuffer(0)).toString('hex')).toBe(
      `1e12${Buffer.from('WebServer', 'utf16le').swap16().toString('hex')}`,
    );
  });

  it('ok/subject built from the account for the User template', async () => {
    const id = idOf((await submit(sim, 'CertificateTemplate:User', 'CORP\\bob')).text);
    const cert = new x509.X509Certificate(Buffer.from(sim.getRequest(id)?.certificate ?? '', 'base64'));
    expect([cert.subject, sanOf(cert)]).toEqual(['CN=bob, CN=Users, DC=corp, DC=example, DC=test', ['bob@corp.example.test']]);
  });

  it('fail/1024-bit key below the template minimum → 0x80094811', async () => {
    const small = await makeCsr('small.corp.example.test', [], 1024);
    const page = await submit(sim, 'CertificateTemplate:WebServer', 'CORP\\alice', newreqForm(small, 'CertificateTemplate:WebServer'));
    expect(/The disposition message is "([^"]+)"/.exec(page.text)?.[1]).toBe(
      'Denied by Policy Module  0x80094811, The public key does not meet the minimum size required by the specified certificate template.',
    );
  });
});

describe('bad input', () => {
  let sim: AdcsSim;
  beforeAll(async () => {
    sim = await startAdcsSim(testConfig({ maxBodyBytes: 10_000 }));
  });
  afterAll(async () => sim.stop());

  it('fail/body over the ASP limit → 500 with the IIS ASP error text', async () => {
    const r = await submit(sim, '', 'CORP\\alice', `Mode=newreq&CertRequest=${'A'.repeat(20_000)}`);
    expect([r.status, r.text]).toEqual([500, 'An error occurred on the server when processing the URL. Please contact the system administrator.']);
  });

  it('fail/random bytes as form body → error page with E_INVALIDARG', async () => {
    const r = await submit(sim, '', 'CORP\\alice', '\u0001\u00ff%zz&&==garbage');
    expect(/LastStatus:[^\t]+\t\t([^\r\n]+)/.exec(r.text)?.[1]).toBe('The parameter is incorrect. 0x80070057 (WIN32: 87 ERROR_INVALID_PARAMETER)');
  });

  it.each([
    ['fail/NTLM token of random bytes', 'NTLM q83vEjRWeJA='],
    ['fail/AUTHENTICATE without a prior NEGOTIATE', `NTLM ${Buffer.concat([Buffer.from('NTLMSSP\0', 'latin1'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(76)]).toString('base64')}`],
    ['fail/truncated NEGOTIATE', `NTLM ${Buffer.from('NTLMSSP\0\x01', 'latin1').toString('base64')}`],
    ['fail/unknown scheme', 'Digest username="alice"'],
    ['fail/Basic token of random bytes', 'Basic 3q2+7wABAgP//w=='],
    ['fail/Basic with an unknown domain', `Basic ${Buffer.from('OTHER\\alice:Passw0rd!').toString('base64')}`],
  ])('%s → 401', async (_n, header) => {
    const r = await https(sim.url, { ca: sim.tlsCaPem, headers: { authorization: header } });
    expect(r.status).toBe(401);
  });

  it('ok/server keeps serving after bad input', async () => {
    const r = await https(sim.url, { ca: sim.tlsCaPem, user: 'CORP\\alice' });
    expect(r.status).toBe(200);
  });
});

describe('faults', () => {
  let sim: AdcsSim;
  beforeAll(async () => {
    sim = await startAdcsSim(testConfig());
  });
  afterAll(async () => sim.stop());

  it('ok/503 for one request, then normal service', async () => {
    await admin(sim, 'PUT', '/sim/faults', { httpStatus: 503, count: 1 });
    const a = await https(sim.url, { ca: sim.tlsCaPem, user: 'alice' });
    const b = await https(sim.url, { ca: sim.tlsCaPem, user: 'alice' });
    expect([a.status, a.text.includes('HTTP Error 503. The service is unavailable.'), b.status]).toEqual([503, true, 200]);
  });

  it('fail/connection reset', async () => {
    await sim.setFaults({ reset: true, count: 1 });
    const err = await https(sim.url, { ca: sim.tlsCaPem, user: 'alice' }).then(() => 'no error', (e: NodeJS.ErrnoException) => e.code);
    expect(err).toBe('ECONNRESET');
  });

  it.each([
    ['fail/expired TLS certificate', 'expired', 'CERT_HAS_EXPIRED'],
    ['fail/TLS certificate for another host', 'wrong-host', 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['fail/self-signed TLS certificate', 'self-signed', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  ] as const)('%s', async (_n, tls, code) => {
    await sim.setFaults({ tls });
    const err = await https(sim.url, { ca: sim.tlsCaPem, user: 'alice' }).then(() => 'no error', (e: NodeJS.ErrnoException) => e.code);
    await sim.clearFaults();
    expect(err).toBe(code);
  });

  it('ok/latency is reported and pages still answer', async () => {
    await admin(sim, 'PUT', '/sim/faults', { latencyMs: 50 });
    const r = await https(sim.url, { ca: sim.tlsCaPem, user: 'alice' });
    const f = JSON.parse((await admin(sim, 'GET', '/sim/faults')).text) as { latencyMs: number };
    await sim.clearFaults();
    expect([r.status, f.latencyMs]).toEqual([200, 50]);
  });
});
