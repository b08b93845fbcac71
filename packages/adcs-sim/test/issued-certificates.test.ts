/**
 * What the CA hands out, checked with openssl as the relying party: chain, CDP/AIA published in
 * the anonymous CertEnroll directory, revocation, template extensions, PKCS#7 chains.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdcsSim, type AdcsSim } from '../src/index.ts';
import { https, makeCsr, newreqForm, run, tempDir, testConfig, x509 } from './helpers.ts';

let sim: AdcsSim;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let csr: string;
let chainFile: string;

beforeAll(async () => {
  sim = await startAdcsSim(
    testConfig({
      templates: [
        { cn: 'WebServer', schemaVersion: 1, enroll: ['alice'] },
        { cn: 'WebServerV2', schemaVersion: 2, oid: '1.3.6.1.4.1.311.21.8.1.2.3.4.5.6.100', majorVersion: 100, minorVersion: 3, enroll: ['alice'] },
        { cn: 'SubCA', schemaVersion: 1, enroll: ['alice'], isCa: true, keyUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'], extendedKeyUsage: [] },
        { cn: 'ManagerApproval', enroll: ['alice'], issuance: 'manager' },
      ],
    }),
  );
  tmp = await tempDir();
  csr = await makeCsr('leaf.corp.example.test');
  chainFile = await tmp.file('chain.pem', sim.caChainPem);
});
afterAll(async () => {
  await sim.stop();
  await tmp.cleanup();
});

async function issue(template: string): Promise<{ id: number; pem: string; file: string }> {
  const page = await https(`${sim.url}certfnsh.asp`, { ca: sim.tlsCaPem, method: 'POST', user: 'alice', body: newreqForm(csr, `CertificateTemplate:${template}`) });
  const id = Number(/certnew\.cer\?ReqID=(\d+)&/.exec(page.text)?.[1] ?? -1);
  const pem = (await https(`${sim.url}certnew.cer?ReqID=${id}&Enc=b64`, { ca: sim.tlsCaPem, user: 'alice' })).text;
  return { id, pem, file: await tmp.file(`leaf-${id}.pem`, pem) };
}

/** Fetches the CRL from the certificate's CDP URL anonymously (no credentials), like a relying party. */
async function crlFromCdp(pem: string): Promise<string> {
  const cdp = new x509.X509Certificate(pem).getExtension(x509.CRLDistributionPointsExtension);
  const url = cdp?.distributionPoints[0]?.distributionPoint?.fullName?.[0]?.uniformResourceIdentifier ?? '';
  const crl = await https(url, { ca: sim.tlsCaPem });
  return tmp.file(`crl-${Date.now()}.pem`, `-----BEGIN X509 CRL-----\n${crl.body.toString('base64')}\n-----END X509 CRL-----\n`);
}

describe('issued certificates (openssl as relying party)', () => {
  it('ok/openssl verify accepts the leaf with the chain and the CRL from its CDP', async () => {
    const leaf = await issue('WebServer');
    const r = await run('openssl', ['verify', '-crl_check', '-CAfile', chainFile, '-CRLfile', await crlFromCdp(leaf.pem), leaf.file]);
    expect(r.stdout.trim()).toBe(`${leaf.file}: OK`);
  });

  it('fail/after revocation openssl verify reports "certificate revoked"', async () => {
    const leaf = await issue('WebServer');
    sim.revoke(leaf.id, 1);
    const r = await run('openssl', ['verify', '-crl_check', '-CAfile', chainFile, '-CRLfile', await crlFromCdp(leaf.pem), leaf.file]);
    expect(/certificate revoked/.test(r.stdout + r.stderr)).toBe(true);
  });

  it('ok/AIA caIssuers serves the issuing CA certificate anonymously', async () => {
    const leaf = new x509.X509Certificate((await issue('WebServer')).pem);
    const aia = leaf.getExtension(x509.AuthorityInfoAccessExtension);
    const url = aia?.caIssuers[0]?.value ?? '';
    const r = await https(url, { ca: sim.tlsCaPem });
    expect(new x509.X509Certificate(r.body).subject).toBe('CN=corp-SIM-CA, DC=corp, DC=example, DC=test');
  });

  it('ok/SubCA template issues a CA certificate (basicConstraints cA=TRUE)', async () => {
    const cert = new x509.X509Certificate((await issue('SubCA')).pem);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
  });

  it('ok/V2 template: 1.3.6.1.4.1.311.21.7 carries the template OID and versions', async () => {
    const cert = new x509.X509Certificate((await issue('WebServerV2')).pem);
    const der = Buffer.from(cert.getExtension('1.3.6.1.4.1.311.21.7')?.value ?? new ArrayBuffer(0));
    const parsed = await run('openssl', ['asn1parse', '-inform', 'DER', '-in', await tmp.file('tmpl-ext.der', der)]);
    const values = parsed.stdout.split('\n').filter((l) => /OBJECT|INTEGER/.test(l)).map((l) => l.split(':').pop()?.trim());
    expect(values).toEqual(['1.3.6.1.4.1.311.21.8.1.2.3.4.5.6.100', '64', '03']);
  });

  it('ok/certnew.p7b for a request holds leaf, issuing CA and root', async () => {
    const leaf = await issue('WebServer');
    const p7b = await https(`${sim.url}certnew.p7b?ReqID=${leaf.id}&Enc=b64`, { ca: sim.tlsCaPem, user: 'alice' });
    const file = await tmp.file('chain.p7b', p7b.text);
    const r = await run('openssl', ['pkcs7', '-print_certs', '-noout', '-in', file]);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('subject=')).length).toBe(3);
  });
});

describe('pending list pages', () => {
  it('ok/certckpn.asp lists the caller\'s pending request', async () => {
    const page = await https(`${sim.url}certfnsh.asp`, { ca: sim.tlsCaPem, method: 'POST', user: 'alice', body: newreqForm(csr, 'CertificateTemplate:ManagerApproval') });
    const id = Number(/Your Request Id is (\d+)\./.exec(page.text)?.[1] ?? -1);
    const list = await https(`${sim.url}certckpn.asp`, { ca: sim.tlsCaPem, user: 'alice' });
    expect(list.text.includes(`checkPending(${id})`)).toBe(true);
  });

  it('fail/another user does not see it', async () => {
    const list = await https(`${sim.url}certckpn.asp`, { ca: sim.tlsCaPem, user: 'bob' });
    expect(list.text.includes('There are no pending certificate requests.')).toBe(true);
  });

  it('fail/chkpnd for an unknown ReqID → error page in chkpnd mode', async () => {
    const r = await https(`${sim.url}certfnsh.asp`, { ca: sim.tlsCaPem, method: 'POST', user: 'alice', body: 'Mode=chkpnd&ReqID=987654' });
    expect([r.text.includes('chkpnd - Check Pending Request'), /LastStatus:[^\t]+\t\t([^\r\n]+)/.exec(r.text)?.[1]]).toEqual([
      true,
      'Cannot find object or property. 0x80092004 (-2146885628 CRYPT_E_NOT_FOUND)',
    ]);
  });
});
