import { afterAll, describe, expect, it } from 'vitest';
import { buildCsr, parseCsr, parseCsrGeneral, type ParsedCsr } from './csr.ts';
import { decodeCsrFast } from './csr-der.ts';
import { describePublicKey, generateKeyPair } from './keys.ts';
import { describeSpkiFast } from './spki.ts';
import { parseDn } from './names.ts';
import { pemDecode } from './pem.ts';
import { openssl, workdir } from './test-helpers.ts';

/** The fast CSR decoder (csr-der.ts) against the asn1-schema one: same result whenever the fast one accepts. */

const wd = workdir();
afterAll(() => wd.cleanup());

function opensslCsr(name: string, args: string[]): Uint8Array {
  const res = openssl(['req', '-new', '-nodes', '-keyout', wd.path(`${name}.key`), '-out', wd.path(`${name}.csr`), ...args]);
  if (res.status !== 0) throw new Error(res.out);
  return pemDecode(wd.read(`${name}.csr`).toString());
}

const view = (c: ParsedCsr) => ({ ...c, der: undefined });
const SAMPLES: [string, () => Uint8Array][] = [
  ['openssl EC with every SAN type', () => opensslCsr('all', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', '/C=DE/ST=Berlin/O=Acme GmbH/OU=Ops/CN=Zoë.example.test/emailAddress=a@b.test',
    '-addext', 'subjectAltName=DNS:a.test,IP:10.0.0.1,IP:2001:db8::5,email:x@y.test,URI:urn:uuid:1,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:u@corp.test',
    '-addext', 'keyUsage=critical,digitalSignature,decipherOnly', '-addext', 'extendedKeyUsage=serverAuth,1.3.6.1.4.1.311.20.2.2'])],
  ['openssl RSA-4096, multi-valued RDN', () => opensslCsr('rsa', ['-newkey', 'rsa:4096', '-multivalue-rdn', '-subj', '/O=Acme/CN=a+UID=b'])],
  ['openssl P-384 empty subject with SAN', () => opensslCsr('empty', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-subj', '/', '-addext', 'subjectAltName=DNS:only.test'])],
  ['openssl Ed25519', () => opensslCsr('ed', ['-newkey', 'ed25519', '-subj', '/CN=ed'])],
  ['openssl BMPString subject (string_mask)', () => opensslCsr('bmp', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', '/CN=bmp', '-utf8', '-multivalue-rdn'])],
  ['buildCsr with challengePassword', () => buildCsr({ subject: parseDn('CN=x, DC=corp, DC=example'), challengePassword: 'otp ü', sans: [{ type: 'ip', value: '::1' }], ...generateKeyPair('EC-P256') })],
];

describe('csr-der against asn1-schema', () => {
  it.each(SAMPLES)('ok/%s: the fast decoder accepts and agrees', (_n, make) => {
    const der = make();
    expect([() => decodeCsrFast(der)].map((f) => { try { f(); return 'fast'; } catch (e) { return String(e); } })[0]).toBe('fast');
    expect(view(parseCsr(der))).toEqual(view(parseCsrGeneral(der)));
  });

  it.each(SAMPLES)('ok/%s: every single-bit flip the fast decoder accepts decodes the same in asn1-schema', (_n, make) => {
    const good = make();
    const disagreements: string[] = [];
    for (let i = 0; i < good.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const b = good.slice();
        b[i] = (b[i] ?? 0) ^ bit;
        let fast: ParsedCsr | undefined;
        try { decodeCsrFast(b); fast = parseCsr(b); } catch { continue; }
        let general: ParsedCsr | string;
        try { general = parseCsrGeneral(b); } catch (e) { general = String(e); }
        if (JSON.stringify(view(fast)) !== JSON.stringify(typeof general === 'string' ? general : view(general))) disagreements.push(`byte ${i} bit ${bit}: ${typeof general === 'string' ? general : 'differs'}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it.each(['EC-P256', 'EC-P384', 'RSA-2048'] as const)('ok/fast SPKI description of %s equals node:crypto', (alg) => {
    const csr = parseCsr(buildCsr({ subject: parseDn('CN=k'), ...generateKeyPair(alg) }));
    expect(describeSpkiFast(csr.spkiDer)).toEqual(describePublicKey(csr.spkiDer));
  });
});
