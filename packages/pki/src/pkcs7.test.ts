import { afterAll, describe, expect, it } from 'vitest';
import { buildCertsOnlyPkcs7, parseCertsOnlyPkcs7 } from './pkcs7.ts';
import { parseCertificate } from './certificate.ts';
import { PkiError } from './errors.ts';
import { makeIssued, makeRoot, openssl, workdir } from './test-helpers.ts';

const wd = workdir();
afterAll(() => wd.cleanup());
const root = makeRoot('EC-P384');
const inter = makeIssued(root, 'EC-P256', { ca: { pathLength: 0 } });
const subjects = (ders: Uint8Array[]) => ders.map((d) => parseCertificate(d).subjectText);

describe('pkcs7 certs-only', () => {
  it('ok/openssl pkcs7 -print_certs lists the certificates', () => {
    const file = wd.write('chain.p7b', buildCertsOnlyPkcs7([inter.certificateDer, root.certificateDer]));
    const res = openssl(['pkcs7', '-inform', 'DER', '-in', file, '-print_certs', '-noout']);
    expect(res.out.split('\n').filter((l) => l.startsWith('subject='))).toEqual(['subject=CN = leaf.example.test', 'subject=O = Certbridge Test, CN = Test Root']);
  });

  it('ok/parses what openssl crl2pkcs7 writes', () => {
    const bundle = wd.write('bundle.pem', inter.pem + root.pem);
    const res = openssl(['crl2pkcs7', '-nocrl', '-certfile', bundle]);
    expect(subjects(parseCertsOnlyPkcs7(res.out))).toEqual(['CN=leaf.example.test', 'CN=Test Root, O=Certbridge Test']);
  });

  it('ok/round trip keeps bytes', () => {
    const back = parseCertsOnlyPkcs7(buildCertsOnlyPkcs7([root.certificateDer]));
    expect(Buffer.compare(back[0] ?? new Uint8Array(), root.certificateDer)).toBe(0);
  });

  it.each([
    ['fail/no certificates', () => buildCertsOnlyPkcs7([]), new PkiError('MALFORMED', 'PKCS#7 certs-only needs at least one certificate')],
    ['fail/certificate is not PKCS#7', () => parseCertsOnlyPkcs7(root.certificateDer), PkiError],
  ] as const)('%s', (_n, fn, error) => {
    expect(fn).toThrow(error);
  });
});
