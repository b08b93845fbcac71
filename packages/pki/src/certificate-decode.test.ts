import { afterAll, describe, expect, it } from 'vitest';
import { parseCertificate, parseCertificateGeneral, type CertificateInfo } from './certificate.ts';
import { decodeCertificateFast } from './certificate-decode.ts';
import { pemDecode } from './pem.ts';
import { parseDn } from './names.ts';
import { EKU } from './oids.ts';
import { makeIssued, makeRoot, openssl, workdir } from './test-helpers.ts';

/** The fast certificate decoder against the asn1-schema one: same result whenever the fast one accepts. */

const wd = workdir();
afterAll(() => wd.cleanup());

function opensslCert(name: string, args: string[]): Uint8Array {
  const res = openssl(['req', '-x509', '-nodes', '-keyout', wd.path(`${name}.key`), '-out', wd.path(`${name}.pem`), ...args]);
  if (res.status !== 0) throw new Error(res.out);
  return pemDecode(wd.read(`${name}.pem`).toString());
}

const root = makeRoot('EC-P384');
const SAMPLES: [string, () => Uint8Array][] = [
  ['openssl RSA self-signed with SANs and usages', () => opensslCert('rsa', ['-newkey', 'rsa:2048', '-days', '10', '-subj', '/C=DE/O=Acme/CN=r.test/emailAddress=a@b.test',
    '-addext', 'subjectAltName=DNS:r.test,IP:10.0.0.1,IP:::1,email:a@b.test,URI:https://r.test/,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:u@corp.test',
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment', '-addext', 'extendedKeyUsage=serverAuth', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:3'])],
  ['openssl EC valid until 2060 (GeneralizedTime)', () => opensslCert('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-days', '12000', '-subj', '/CN=e.test'])],
  ['Certbridge leaf with AIA and CDP', () => makeIssued(root, 'EC-P256', { subject: parseDn('CN=l.test, O=Zoë'), sans: [{ type: 'dns', value: 'l.test' }],
    keyUsages: ['digitalSignature'], extendedKeyUsages: [EKU.serverAuth, EKU.clientAuth], aia: { ocsp: ['http://p.test/ocsp'] }, crlDistributionPoints: ['http://p.test/c.crl'] }).certificateDer],
  ['Certbridge root', () => root.certificateDer],
];

/** Key order differs between the decoders; sorting the keys makes the JSON comparable. */
const view = (c: CertificateInfo): string => JSON.stringify(Object.fromEntries(Object.entries({ ...c, der: undefined }).sort(([a], [b]) => a.localeCompare(b))));

describe('certificate-decode against asn1-schema', () => {
  it.each(SAMPLES)('ok/%s: the fast decoder accepts and agrees', (_n, make) => {
    const der = make();
    expect([(() => { try { decodeCertificateFast(der); return 'fast'; } catch (e) { return String(e); } })(), view(parseCertificate(der))])
      .toEqual(['fast', view(parseCertificateGeneral(der))]);
  });

  it.each(SAMPLES)('ok/%s: every single-bit flip the fast decoder accepts decodes the same in asn1-schema', (_n, make) => {
    const good = make();
    const disagreements: string[] = [];
    for (let i = 0; i < good.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const b = good.slice();
        b[i] = (b[i] ?? 0) ^ bit;
        let fast: string;
        try { decodeCertificateFast(b); fast = view(parseCertificate(b)); } catch { continue; }
        let general: string;
        try { general = view(parseCertificateGeneral(b)); } catch (e) { general = String(e); }
        if (fast !== general) disagreements.push(`byte ${i} bit ${bit}: ${general.slice(0, 80)}`);
      }
    }
    expect(disagreements).toEqual([]);
  });
});
