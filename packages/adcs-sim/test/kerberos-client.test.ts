/**
 * Negotiate/Kerberos with a real MIT realm: `curl --negotiate -u :` with a ticket from kinit
 * issues a certificate in Kerberos-only mode, where NTLM is neither offered nor accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdcsSim, type AdcsSim } from '../src/index.ts';
import { makeCsr, run, tempDir, testConfig, PASSWORD } from './helpers.ts';
import { startRealm, type TestRealm } from './kdc.ts';

const REALM = 'CORP.EXAMPLE.TEST';
let realm: TestRealm;
let sim: AdcsSim;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let ca: string;
let csr: string;
let ccache: string;

beforeAll(async () => {
  realm = await startRealm(REALM, 'localhost', [['alice', PASSWORD], ['carol', PASSWORD]]);
  // The acceptor runs in this process: it needs the realm's krb5.conf.
  process.env.KRB5_CONFIG = realm.env.KRB5_CONFIG;
  sim = await startAdcsSim(testConfig({ auth: { negotiate: true, ntlm: false, basic: false, keytab: realm.keytab } }));
  tmp = await tempDir();
  ca = await tmp.file('ca.pem', sim.tlsCaPem);
  csr = await tmp.file('csr.pem', await makeCsr('krb.corp.example.test'));
  ccache = `${tmp.dir}/alice.cc`;
  const k = await realm.kinit('alice', PASSWORD, ccache);
  if (k.code !== 0) throw new Error(`kinit failed: ${k.stderr}`);
});
afterAll(async () => {
  await sim?.stop();
  await realm?.stop();
  await tmp?.cleanup();
});

function curl(args: string[]) {
  return run('curl', ['-sS', '--cacert', ca, '-o', '-', '-w', '\n%{http_code}', ...args], { ...realm.env, KRB5CCNAME: `FILE:${ccache}` });
}

const status = (out: string) => out.trim().split('\n').pop();

describe('Kerberos-only mode', () => {
  it('ok/curl --negotiate with a kinit ticket issues a certificate', async () => {
    const r = await curl([
      '--negotiate', '-u', ':', '--data-urlencode', 'Mode=newreq', '--data-urlencode', `CertRequest@${csr}`,
      '--data-urlencode', 'CertAttrib=CertificateTemplate:WebServer', `${sim.url}certfnsh.asp`,
    ]);
    expect([status(r.stdout), /Certificate Issued[\s\S]*certnew\.cer\?ReqID=\d+&/.test(r.stdout)]).toEqual(['200', true]);
  });

  it('fail/a valid ticket for a principal with no account here → 401', async () => {
    const carolCache = `${tmp.dir}/carol.cc`;
    await realm.kinit('carol', PASSWORD, carolCache);
    const r = await run('curl', ['-sS', '--cacert', ca, '-o', '/dev/null', '-w', '%{http_code}', '--negotiate', '-u', ':', sim.url], {
      ...realm.env,
      KRB5CCNAME: `FILE:${carolCache}`,
    });
    expect(r.stdout.trim()).toBe('401');
  });

  it('fail/401 offers only Negotiate', async () => {
    const r = await run('curl', ['-sS', '--cacert', ca, '-o', '/dev/null', '-D', '-', sim.url]);
    expect(r.stdout.split('\r\n').filter((l) => /^www-authenticate:/i.test(l))).toEqual(['WWW-Authenticate: Negotiate']);
  });

  it('fail/curl --ntlm is refused → 401', async () => {
    const r = await curl(['--ntlm', '-u', `CORP\\alice:${PASSWORD}`, sim.url]);
    expect(status(r.stdout)).toBe('401');
  });
});
