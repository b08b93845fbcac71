import { afterAll, describe, expect, it } from 'vitest';
import { buildCsr, parseCsr, verifyCsrSignature } from './csr.ts';
import { generateKeyPair } from './keys.ts';
import { parseDn } from './names.ts';
import { pemDecode, pemEncode } from './pem.ts';
import { EKU } from './oids.ts';
import type { San } from './sans.ts';
import { openssl, workdir } from './test-helpers.ts';

const wd = workdir();
afterAll(() => wd.cleanup());

const SAN_EXT = 'subjectAltName=DNS:a.example.test,IP:192.0.2.1,IP:2001:db8::1,email:alice@example.test,'
  + 'URI:https://example.test/p,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@corp.test';
const SANS: San[] = [
  { type: 'dns', value: 'a.example.test' }, { type: 'ip', value: '192.0.2.1' }, { type: 'ip', value: '2001:db8::1' },
  { type: 'email', value: 'alice@example.test' }, { type: 'uri', value: 'https://example.test/p' }, { type: 'upn', value: 'alice@corp.test' },
];

/** A CSR made by `openssl req` with the key options given. */
function opensslCsr(name: string, keyArgs: string[], extra: string[] = []): string {
  const out = wd.path(`${name}.csr`);
  const res = openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', wd.path(`${name}.key`), '-subj', '/CN=a.example.test/O=Acme',
    '-addext', SAN_EXT, '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment', '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
    ...extra, '-out', out]);
  if (res.status !== 0) throw new Error(res.out);
  return wd.read(`${name}.csr`).toString('utf8');
}

const KEYS: [string, string[], string | null][] = [
  ['EC P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'EC-P256'],
  ['EC P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'EC-P384'],
  ['RSA 2048', ['-newkey', 'rsa:2048'], 'RSA-2048'],
  ['RSA-PSS signature', ['-newkey', 'rsa:2048', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'], 'RSA-2048'],
  ['Ed25519', ['-newkey', 'ed25519'], null],
];

describe('csr from openssl req', () => {
  it.each(KEYS)('ok/%s parses with subject, SANs, usages and a valid signature', (name, keyArgs, alg) => {
    const csr = parseCsr(opensslCsr(name.replace(/\W/g, ''), keyArgs));
    expect({
      subject: csr.subjectText, sans: csr.sans, alg: csr.publicKey.algorithm,
      ku: csr.keyUsages, eku: csr.extendedKeyUsages, valid: verifyCsrSignature(csr),
    }).toEqual({ subject: 'O=Acme, CN=a.example.test', sans: SANS, alg, ku: ['digitalSignature', 'keyEncipherment'], eku: [EKU.serverAuth, EKU.clientAuth], valid: true });
  });

  it.each(KEYS)('fail/%s with one flipped signature byte does not verify', (name, keyArgs) => {
    const der = pemDecode(opensslCsr(`${name.replace(/\W/g, '')}flip`, keyArgs));
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
    expect(verifyCsrSignature(parseCsr(der))).toBe(false);
  });

  it('fail/flipped byte in the signed subject does not verify', () => {
    const pem = opensslCsr('subjflip', KEYS[0]?.[1] ?? []);
    const der = pemDecode(pem);
    const at = Buffer.from(der).indexOf('Acme');
    der[at] = 'B'.charCodeAt(0);
    const csr = parseCsr(der);
    expect([csr.subject[0]?.value, verifyCsrSignature(csr)]).toEqual(['Bcme', false]);
  });

  it('fail/an EC point off the curve does not verify (and does not throw)', () => {
    const der = pemDecode(opensslCsr('offcurve', KEYS[0]?.[1] ?? []));
    const point = Buffer.from(der).indexOf(Buffer.from([0x03, 0x42, 0x00, 0x04])) + 4;
    der[point + 10] = (der[point + 10] ?? 0) ^ 0x01;
    const csr = parseCsr(der);
    expect([csr.publicKey.algorithm, verifyCsrSignature(csr)]).toEqual(['EC-P256', false]);
  });

  it('ok/challengePassword attribute is read', () => {
    const cfg = wd.write('cp.cnf', '[req]\nprompt=no\ndistinguished_name=dn\nattributes=attrs\n[dn]\nCN=scep-device\n[attrs]\nchallengePassword=otp-1234\n');
    const res = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', wd.path('cp.key'), '-config', cfg, '-out', wd.path('cp.csr')]);
    expect(res.status).toBe(0);
    const csr = parseCsr(wd.read('cp.csr'));
    expect([csr.challengePassword, verifyCsrSignature(csr)]).toEqual(['otp-1234', true]);
  });

  it('ok/a copied ParsedCsr still verifies (falls back to the DER)', () => {
    const csr = parseCsr(opensslCsr('copy', KEYS[0]?.[1] ?? []));
    expect(verifyCsrSignature({ ...csr })).toBe(true);
  });
});

describe('buildCsr', () => {
  it.each(['EC-P256', 'EC-P384', 'RSA-2048'] as const)('ok/%s request verifies in openssl and round-trips', (alg) => {
    const keys = generateKeyPair(alg);
    const der = buildCsr({ subject: parseDn('CN=built.example.test, O=Acme'), sans: SANS, challengePassword: 'pw', ...keys });
    const file = wd.write(`built-${alg}.csr`, pemEncode('CERTIFICATE REQUEST', der));
    const res = openssl(['req', '-in', file, '-noout', '-verify', '-subject', '-nameopt', 'RFC2253']);
    const csr = parseCsr(der);
    expect({ openssl: res.out.trim().split('\n').sort(), sans: csr.sans, pw: csr.challengePassword, ok: verifyCsrSignature(csr) }).toEqual({
      openssl: ['Certificate request self-signature verify OK', 'subject=CN=built.example.test,O=Acme'], sans: SANS, pw: 'pw', ok: true,
    });
  });

  it('fail/mismatched key pair', () => {
    expect(() => buildCsr({ subject: parseDn('CN=x'), privateKey: generateKeyPair('EC-P256').privateKey, publicKey: generateKeyPair('EC-P256').publicKey }))
      .toThrow('buildCsr: private and public key do not match');
  });

  it.each<[string, San, string]>([
    ['fail/non-ASCII DNS name', { type: 'dns', value: 'bücher.example' }, 'SAN dns:bücher.example: DNS names must be ASCII (use punycode A-labels)'],
    ['fail/bad IP', { type: 'ip', value: '300.1.1.1' }, 'SAN ip:300.1.1.1: not an IPv4 or IPv6 address'],
    ['fail/relative URI', { type: 'uri', value: '/x' }, 'SAN uri:/x: not an absolute URI'],
  ])('%s', (_n, san, message) => {
    expect(() => buildCsr({ subject: parseDn('CN=x'), sans: [san], ...generateKeyPair('EC-P256') })).toThrow(message);
  });
});
