import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { caConfigString, revokeJob } from './connector-revocations.ts';

/** A self-signed certificate whose issuer is the given DN (openssl). */
function certWithIssuer(subj: string): Uint8Array {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', subj, '-days', '1', '-keyout', path.join(dir, 'k.pem'), '-outform', 'DER', '-out', path.join(dir, 'c.der')], { stdio: 'ignore' });
    return new Uint8Array(fs.readFileSync(path.join(dir, 'c.der')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('certutil config string and revoke job', () => {
  const corp = certWithIssuer('/DC=example/DC=corp/CN=Corp Issuing CA');
  const noCn = certWithIssuer('/O=No Common Name');

  it.each([
    ['ok/host-of-the-server-url-and-issuer-cn', 'https://ca01.corp.example/certsrv', undefined, corp, 'ca01.corp.example\\Corp Issuing CA'],
    ['ok/port-and-path-are-not-part-of-the-host', 'https://ca01.corp.example:8443/certsrv/', undefined, corp, 'ca01.corp.example\\Corp Issuing CA'],
    ['ok/ca-setting-wins-over-the-issuer-cn', 'https://ca01.corp.example/certsrv', 'CORP-CA01-CA', corp, 'ca01.corp.example\\CORP-CA01-CA'],
  ])('%s', (_name, url, caName, der, expected) => {
    expect(caConfigString(url, caName, der)).toBe(expected);
  });

  it('fail/certificate-without-issuer-cn-asks-for-the-ca-setting', () => {
    expect(() => caConfigString('https://ca01.corp.example/certsrv', undefined, noCn)).toThrow('the certificate names no issuer CN; set the CA setting caName');
  });

  it.each([
    ['unspecified', 0], ['keyCompromise', 1], ['cACompromise', 2], ['affiliationChanged', 3], ['superseded', 4],
    ['cessationOfOperation', 5], ['certificateHold', 6], ['privilegeWithdrawn', 9], ['aACompromise', 10],
  ] as const)('ok/reason-%s-is-certutil-code-%i', (reason, code) => {
    expect(revokeJob('h\\CA', '0a1b', reason)).toEqual({ kind: 'revoke', config: 'h\\CA', serialHex: '0a1b', reason: code });
  });
});
