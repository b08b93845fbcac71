/**
 * certsrv pages driven over real HTTPS with Basic credentials: issuance, pending → approve,
 * deny, template permission, malformed requests, downloads, and the IIS response shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdcsSim, type AdcsSim } from '../src/index.ts';
import { https, makeCsr, newreqForm, run, tempDir, testConfig, x509 } from './helpers.ts';

let sim: AdcsSim;
let csrAlice: string;

beforeAll(async () => {
  sim = await startAdcsSim(testConfig());
  csrAlice = await makeCsr('web1.corp.example.test', ['web1.corp.example.test']);
});
afterAll(async () => sim.stop());

async function submit(user: string, csr: string, attrib: string) {
  return https(`${sim.url}certfnsh.asp`, { ca: sim.tlsCaPem, method: 'POST', user, body: newreqForm(csr, attrib) });
}

function reqId(text: string): number {
  const m = /certnew\.cer\?ReqID=(\d+)&/.exec(text) ?? /Your Request Id is (\d+)\./.exec(text);
  return m ? Number(m[1]) : -1;
}

describe('certfnsh.asp newreq', () => {
  it('ok/auto-issue template answers "Certificate Issued" and certnew.cer returns the certificate', async () => {
    const page = await submit('CORP\\alice', csrAlice, 'CertificateTemplate:WebServer');
    expect(page.text).toContain('Certificate Issued');
    const id = reqId(page.text);
    const cer = await https(`${sim.url}certnew.cer?ReqID=${id}&Enc=b64`, { ca: sim.tlsCaPem, user: 'CORP\\alice' });
    const cert = new x509.X509Certificate(cer.text);
    expect([cer.headers['content-type'], cert.subject, await cert.verify({ publicKey: new x509.X509Certificate(sim.issuingCaPem) })]).toEqual([
      'application/pkix-cert',
      'CN=web1.corp.example.test',
      true,
    ]);
  });

  it('ok/issued page carries both certnew.cer link forms', async () => {
    const page = await submit('alice', csrAlice, 'CertificateTemplate:WebServer');
    const id = reqId(page.text);
    expect([page.text.includes(`certnew.cer?ReqID=${id}&amp;Enc=b64`), page.text.includes(`certnew.cer?ReqID=${id}&"+getEncoding()`)]).toEqual([true, true]);
  });

  it('ok/manager approval → pending page, approve, then certnew.cer issues', async () => {
    const page = await submit('CORP\\alice', csrAlice, 'CertificateTemplate:ManagerApproval');
    const id = reqId(page.text);
    const before = await https(`${sim.url}certnew.cer?ReqID=${id}&Enc=b64`, { ca: sim.tlsCaPem, user: 'CORP\\alice' });
    const approved = await https(`${sim.baseUrl}/sim/requests/${id}/approve`, { ca: sim.tlsCaPem, method: 'POST', headers: { authorization: `Bearer ${sim.adminToken}` } });
    const after = await https(`${sim.url}certnew.cer?ReqID=${id}&Enc=bin`, { ca: sim.tlsCaPem, user: 'CORP\\alice' });
    expect({
      pending: /Certificate Pending[\s\S]*Your Request Id is \d+\./.test(page.text),
      beforeMsg: /Disposition message:[^\t]+\t\t([^\r\n]+)/.exec(before.text)?.[1],
      approved: (JSON.parse(approved.text) as { dispositionMessage: string }).dispositionMessage,
      after: new x509.X509Certificate(after.body).subject,
    }).toEqual({ pending: true, beforeMsg: 'Taken Under Submission', approved: 'Resubmitted by CORP\\admin', after: 'CN=web1.corp.example.test' });
  });

  it('ok/pending → deny → denied page with disposition and 0x80094014 in certnew.cer', async () => {
    const page = await submit('CORP\\alice', csrAlice, 'CertificateTemplate:ManagerApproval');
    const id = reqId(page.text);
    sim.deny(id);
    const chk = await https(`${sim.url}certfnsh.asp`, { ca: sim.tlsCaPem, method: 'POST', user: 'CORP\\alice', body: `Mode=chkpnd&ReqID=${id}` });
    const cer = await https(`${sim.url}certnew.cer?ReqID=${id}&Enc=b64`, { ca: sim.tlsCaPem, user: 'CORP\\alice' });
    expect({
      denied: chk.text.includes('Your certificate request was denied.'),
      msg: /The disposition message is "([^"]+)"/.exec(chk.text)?.[1],
      last: /LastStatus:[^\t]+\t\t([^\r\n]+)/.exec(cer.text)?.[1],
    }).toEqual({
      denied: true,
      msg: 'Denied by CORP\\admin',
      last: 'The request was denied by a certificate manager or CA administrator. 0x80094014 (-2146877420 CERTSRV_E_ADMIN_DENIED_REQUEST)',
    });
  });

  it.each([
    ['fail/template without enroll permission → 0x80094012', 'CORP\\bob', 'CertificateTemplate:WebServer',
      'Denied by Policy Module  0x80094012, The permissions on the certificate template do not allow the current user to enroll for this type of certificate.'],
    ['fail/template unknown to the CA → 0x80094800', 'CORP\\alice', 'CertificateTemplate:NoSuchTemplate',
      'Denied by Policy Module  0x80094800, The request was for a certificate template that is not supported by the Active Directory Certificate Services policy: NoSuchTemplate.'],
    ['fail/no template → 0x80094801', 'CORP\\alice', '',
      'Denied by Policy Module  0x80094801, The request contains no certificate template information.'],
  ])('%s', async (_name, user, attrib, message) => {
    const page = await submit(user, csrAlice, attrib);
    expect([page.text.includes('Certificate Request Denied'), /The disposition message is "([^"]+)"/.exec(page.text)?.[1]]).toEqual([true, message]);
  });

  it.each([
    ['fail/random bytes → CRYPT_E_ASN1_BADTAG', Buffer.from('this is not DER at all, just text').toString('base64'), 'ASN1 bad tag value met. 0x8009310b (ASN: 267 CRYPT_E_ASN1_BADTAG)'],
    ['fail/not base64 → ERROR_INVALID_DATA', '%%% not base64 %%%', 'The data is invalid. 0x8007000d (WIN32: 13 ERROR_INVALID_DATA)'],
  ])('%s', async (_name, csr, lastStatus) => {
    const page = await submit('CORP\\alice', csr, 'CertificateTemplate:WebServer');
    expect([
      /Disposition message:[^\t]+\t\t([^\r\n]+)/.exec(page.text)?.[1],
      /LastStatus:[^\t]+\t\t([^\r\n]+)/.exec(page.text)?.[1],
    ]).toEqual([`Error Parsing Request  ${lastStatus}`, lastStatus]);
  });

  it('fail/truncated request → CRYPT_E_ASN1_EOD', async () => {
    const der = Buffer.from(csrAlice.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const page = await submit('CORP\\alice', der.subarray(0, 200).toString('base64'), 'CertificateTemplate:WebServer');
    expect(/LastStatus:[^\t]+\t\t([^\r\n]+)/.exec(page.text)?.[1]).toBe('ASN1 unexpected end of data. 0x80093102 (ASN: 258 CRYPT_E_ASN1_EOD)');
  });

  it('ok/request ids increase', async () => {
    const a = reqId((await submit('alice', csrAlice, 'CertificateTemplate:WebServer')).text);
    const b = reqId((await submit('alice', csrAlice, 'CertificateTemplate:WebServer')).text);
    expect(b - a).toBe(1);
  });
});

describe('curl with Basic', () => {
  it('ok/curl --basic submits and downloads the certificate', async () => {
    const tmp = await tempDir();
    const ca = await tmp.file('ca.pem', sim.tlsCaPem);
    const csr = await tmp.file('csr.pem', csrAlice);
    const page = await run('curl', ['-sS', '--cacert', ca, '--basic', '-u', 'CORP\\alice:Passw0rd!', '--data-urlencode', 'Mode=newreq',
      '--data-urlencode', `CertRequest@${csr}`, '--data-urlencode', 'CertAttrib=CertificateTemplate:WebServer', `${sim.url}certfnsh.asp`]);
    const id = reqId(page.stdout);
    const der = await run('curl', ['-sS', '--cacert', ca, '--basic', '-u', 'CORP\\alice:Passw0rd!', '-o', `${tmp.dir}/c.der`, `${sim.url}certnew.cer?ReqID=${id}&Enc=bin`]);
    const text = await run('openssl', ['x509', '-inform', 'DER', '-in', `${tmp.dir}/c.der`, '-noout', '-subject']);
    await tmp.cleanup();
    expect([der.code, text.stdout.trim()]).toEqual([0, 'subject=CN = web1.corp.example.test']);
  });
});

describe('IIS shape', () => {
  it('ok/200 page has IIS headers, ASPSESSIONID cookie and CRLF', async () => {
    const r = await https(sim.url, { ca: sim.tlsCaPem, user: 'CORP\\alice' });
    expect({
      server: r.headers.server,
      powered: r.headers['x-powered-by'],
      cookie: /^ASPSESSIONID[A-Z]{8}=[A-Z]{24}; secure; path=\/$/.test(String(r.headers['set-cookie']?.[0])),
      crlf: r.text.split('\n').every((l, i, all) => i === all.length - 1 || l.endsWith('\r')),
    }).toEqual({ server: 'Microsoft-IIS/10.0', powered: 'ASP.NET', cookie: true, crlf: true });
  });

  it('fail/no credentials → 401 with Negotiate-less NTLM + Basic offers and the IIS body', async () => {
    const r = await https(sim.url, { ca: sim.tlsCaPem });
    expect([r.status, r.headers['www-authenticate'], r.text.includes('<h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2>')]).toEqual([
      401,
      'NTLM, Basic realm="localhost"',
      true,
    ]);
  });

  it('ok/IIS header order on an ASP page and no Connection/Keep-Alive header', async () => {
    const r = await https(sim.url, { ca: sim.tlsCaPem, user: 'CORP\\alice' });
    expect([r.rawHeaderNames, r.headers.connection, r.headers['keep-alive']]).toEqual([
      ['Cache-Control', 'Content-Length', 'Content-Type', 'Server', 'Set-Cookie', 'X-Powered-By', 'Date'],
      undefined,
      undefined,
    ]);
  });

  it('fail/401 is produced by IIS: no ASP session cookie', async () => {
    const r = await https(sim.url, { ca: sim.tlsCaPem });
    expect([r.status, r.headers['set-cookie']]).toEqual([401, undefined]);
  });

  it('fail/wrong password → 401, never a page', async () => {
    const r = await https(sim.url, { ca: sim.tlsCaPem, headers: { authorization: `Basic ${Buffer.from('CORP\\alice:wrong').toString('base64')}` } });
    expect(r.status).toBe(401);
  });

  it('ok/certrqxt.asp lists only templates the caller may enroll in', async () => {
    const r = await https(`${sim.url}certrqxt.asp`, { ca: sim.tlsCaPem, user: 'CORP\\alice' });
    expect([...r.text.matchAll(/Option Value="([EO]);(.*?);/g)].map((m) => `${m[1]};${m[2]}`)).toEqual(['O;WebServer', 'O;ManagerApproval']);
  });

  it('ok/certcarc.asp nRenewals and CACert downloads chain to the root', async () => {
    const page = await https(`${sim.url}certcarc.asp`, { ca: sim.tlsCaPem, user: 'alice' });
    const k = /var nRenewals=(\d+);/.exec(page.text)?.[1];
    const p7b = await https(`${sim.url}certnew.p7b?ReqID=CACert&Renewal=${k}&Enc=bin`, { ca: sim.tlsCaPem, user: 'alice' });
    const certs = new x509.X509Certificates(new Uint8Array(p7b.body));
    expect([k, certs.map((c) => c.subject)]).toEqual(['0', ['CN=corp-SIM-CA, DC=corp, DC=example, DC=test', 'CN=corp-SIM-ROOT-CA, DC=corp, DC=example, DC=test']]);
  });

  it('fail/unknown ReqID → error page with CRYPT_E_NOT_FOUND', async () => {
    const r = await https(`${sim.url}certnew.cer?ReqID=99999&Enc=b64`, { ca: sim.tlsCaPem, user: 'alice' });
    expect([r.headers['content-type'], /LastStatus:[^\t]+\t\t([^\r\n]+)/.exec(r.text)?.[1]]).toEqual(['text/html', 'Cannot find object or property. 0x80092004 (-2146885628 CRYPT_E_NOT_FOUND)']);
  });
});
