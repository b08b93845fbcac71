/**
 * NTLM inside SPNEGO under the Negotiate scheme, as MIT GSS-API with the gss-ntlmssp mechanism
 * (Debian gss-ntlmssp) sends it through `curl --negotiate` when no Kerberos ticket exists:
 * NegTokenInit(NEGOTIATE) → NegTokenResp(CHALLENGE) → NegTokenResp(AUTHENTICATE + mechListMIC).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdcsSim, type AdcsSim } from '../src/index.ts';
import { makeCsr, run, tempDir, testConfig, PASSWORD } from './helpers.ts';

let sim: AdcsSim;
let tmp: Awaited<ReturnType<typeof tempDir>>;
const files: Record<string, string> = {};

beforeAll(async () => {
  sim = await startAdcsSim(testConfig({ auth: { ntlm: true, basic: false } }));
  tmp = await tempDir();
  files.ca = await tmp.file('ca.pem', sim.tlsCaPem);
  files.csr = await tmp.file('csr.pem', await makeCsr('spnego.corp.example.test'));
  // gss-ntlmssp reads default credentials from NTLM_USER_FILE (DOMAIN:user:password).
  files.good = await tmp.file('good-users', `CORP:alice:${PASSWORD}\n`);
  files.bad = await tmp.file('bad-users', 'CORP:alice:not-the-password\n');
});
afterAll(async () => {
  await sim.stop();
  await tmp.cleanup();
});

function curl(userFile: string) {
  return run(
    'curl',
    ['-sS', '--cacert', files.ca, '--negotiate', '-u', ':', '-o', '-', '-w', '\n%{http_code}',
      '--data-urlencode', 'Mode=newreq', '--data-urlencode', `CertRequest@${files.csr}`,
      '--data-urlencode', 'CertAttrib=CertificateTemplate:WebServer', `${sim.url}certfnsh.asp`],
    // An empty ccache path keeps Kerberos out of the SPNEGO mech list.
    { ...process.env, NTLM_USER_FILE: userFile, KRB5CCNAME: `FILE:${tmp.dir}/no-ccache` },
  );
}

describe('SPNEGO-wrapped NTLM (curl --negotiate + gss-ntlmssp)', () => {
  it('ok/issues; the client mechListMIC verified', async () => {
    const r = await curl(files.good);
    expect([r.stdout.trim().split('\n').pop(), /Certificate Issued/.test(r.stdout)]).toEqual(['200', true]);
  });

  it('fail/wrong password → 401', async () => {
    const r = await curl(files.bad);
    expect(r.stdout.trim().split('\n').pop()).toBe('401');
  });
});
