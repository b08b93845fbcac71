/**
 * NTLMv2 against real third-party clients: curl --ntlm (no channel bindings) and Python
 * requests_ntlm (Debian python3-requests-ntlm, sends MsvAvChannelBindings and a MIC), with
 * Extended Protection off and required.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdcsSim, type AdcsSim } from '../src/index.ts';
import { makeCsr, run, tempDir, testConfig, PASSWORD } from './helpers.ts';

// Python's hashlib needs MD4 from OpenSSL's legacy provider for the NT hash.
const OPENSSL_CONF = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`;

const PY_CLIENT = `import sys, requests
from requests_ntlm import HttpNtlmAuth
url, ca, user, password, csr_file = sys.argv[1:6]
s = requests.Session()
s.auth = HttpNtlmAuth(user, password)
csr = open(csr_file).read()
r = s.post(url + 'certfnsh.asp', data={'Mode': 'newreq', 'CertRequest': csr, 'CertAttrib': 'CertificateTemplate:WebServer', 'TargetStoreFlags': '0', 'SaveCert': 'yes'}, verify=ca)
print(r.status_code)
print(r.text)
`;

// Second request on the same keep-alive connection, sent without an Authorization header:
// it succeeds only because IIS (and the emulator) bind the NTLM identity to the connection.
const PY_FETCH = `import re, sys, requests
from requests_ntlm import HttpNtlmAuth
url, ca, user, password = sys.argv[1:5]
s = requests.Session()
s.auth = HttpNtlmAuth(user, password)
r = s.get(url + 'certcarc.asp', verify=ca)
s.auth = None
r2 = s.get(url + 'certnew.cer?ReqID=CACert&Renewal=0&Enc=b64', verify=ca)
print(r.status_code, r2.status_code, r2.headers.get('Content-Type'), 'Authorization' in r2.request.headers)
`;

let off: AdcsSim;
let required: AdcsSim;
let accept: AdcsSim;
let tmp: Awaited<ReturnType<typeof tempDir>>;
const files: Record<string, string> = {};

beforeAll(async () => {
  off = await startAdcsSim(testConfig({ auth: { ntlm: true, basic: false, epa: 'off' } }));
  required = await startAdcsSim(testConfig({ auth: { ntlm: true, basic: false, epa: 'required' } }));
  accept = await startAdcsSim(testConfig({ auth: { ntlm: true, basic: false, epa: 'accept' } }));
  tmp = await tempDir();
  files.ca = await tmp.file('ca.pem', off.tlsCaPem);
  files.caReq = await tmp.file('ca-req.pem', required.tlsCaPem);
  files.caAcc = await tmp.file('ca-acc.pem', accept.tlsCaPem);
  files.csr = await tmp.file('csr.pem', await makeCsr('ntlm.corp.example.test'));
  files.py = await tmp.file('client.py', PY_CLIENT);
  files.fetch = await tmp.file('fetch.py', PY_FETCH);
  files.conf = await tmp.file('openssl.cnf', OPENSSL_CONF);
});
afterAll(async () => {
  await off.stop();
  await required.stop();
  await accept.stop();
  await tmp.cleanup();
});

function curlSubmit(sim: AdcsSim, ca: string, user: string, password: string) {
  return run('curl', [
    '-sS', '--cacert', ca, '--ntlm', '-u', `${user}:${password}`, '-o', '-', '-w', '\n%{http_code}',
    '--data-urlencode', 'Mode=newreq', '--data-urlencode', `CertRequest@${files.csr}`,
    '--data-urlencode', 'CertAttrib=CertificateTemplate:WebServer', `${sim.url}certfnsh.asp`,
  ]);
}

function python(sim: AdcsSim, ca: string, user: string, password: string) {
  return run('/usr/bin/python3', [files.py, sim.url, ca, user, password, files.csr], { ...process.env, OPENSSL_CONF: files.conf });
}

const issued = (text: string): boolean => /Certificate Issued[\s\S]*certnew\.cer\?ReqID=\d+&/.test(text);

describe('curl --ntlm', () => {
  it('ok/issues with EPA off', async () => {
    const r = await curlSubmit(off, files.ca, 'CORP\\alice', PASSWORD);
    expect([r.stdout.trim().split('\n').pop(), issued(r.stdout)]).toEqual(['200', true]);
  });

  it('fail/wrong password → 401', async () => {
    const r = await curlSubmit(off, files.ca, 'CORP\\alice', 'nope');
    expect(r.stdout.trim().split('\n').pop()).toBe('401');
  });

  it('ok/EPA accept lets curl in without bindings', async () => {
    const r = await curlSubmit(accept, files.caAcc, 'CORP\\alice', PASSWORD);
    expect([r.stdout.trim().split('\n').pop(), issued(r.stdout)]).toEqual(['200', true]);
  });

  it('fail/EPA required refuses curl (it sends no channel bindings) → 401', async () => {
    const r = await curlSubmit(required, files.caReq, 'CORP\\alice', PASSWORD);
    expect(r.stdout.trim().split('\n').pop()).toBe('401');
  });
});

describe('python requests_ntlm', () => {
  it('ok/issues with EPA off', async () => {
    const r = await python(off, files.ca, 'CORP\\alice', PASSWORD);
    expect([r.stdout.split('\n')[0], issued(r.stdout)]).toEqual(['200', true]);
  });

  it('ok/issues with EPA accept (bindings sent and checked)', async () => {
    const r = await python(accept, files.caAcc, 'CORP\\alice', PASSWORD);
    expect([r.stdout.split('\n')[0], issued(r.stdout)]).toEqual(['200', true]);
  });

  it('ok/issues with EPA required (channel bindings match)', async () => {
    const r = await python(required, files.caReq, 'CORP\\alice', PASSWORD);
    expect([r.stdout.split('\n')[0], issued(r.stdout)]).toEqual(['200', true]);
  });

  it('ok/identity is bound to the keep-alive connection (no header on the 2nd request)', async () => {
    const r = await run('/usr/bin/python3', [files.fetch, required.url, files.caReq, 'CORP\\alice', PASSWORD], { ...process.env, OPENSSL_CONF: files.conf });
    expect(r.stdout.trim()).toBe('200 200 application/pkix-cert False');
  });

  it('fail/wrong password → 401', async () => {
    const r = await python(required, files.caReq, 'CORP\\alice', 'nope');
    expect(r.stdout.split('\n')[0]).toBe('401');
  });
});
