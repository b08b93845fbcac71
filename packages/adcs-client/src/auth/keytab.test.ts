import { describe, expect, it } from 'vitest';
import { keytabPrincipals, parseKeytab } from './keytab.ts';
import { krb5Conf } from './kinit.ts';

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const data = (s: string | Buffer) => { const b = Buffer.isBuffer(s) ? s : Buffer.from(s); return Buffer.concat([u16(b.length), b]); };

/** One keytab entry as MIT's kt_file.c writes it (version 0x0502, with the trailing 32-bit kvno). */
function entry(realm: string, components: string[], enctype: number, key: Buffer): Buffer {
  const body = Buffer.concat([u16(components.length), data(realm), ...components.map((c) => data(c)), u32(1), u32(1_700_000_000), Buffer.from([3]), u16(enctype), data(key), u32(3)]);
  return Buffer.concat([u32(body.length), body]);
}

const HEAD = Buffer.from([0x05, 0x02]);
const aliceAes256 = entry('EAST.CORP.TEST', ['alice'], 18, Buffer.alloc(32, 1));
const aliceAes128 = entry('EAST.CORP.TEST', ['alice'], 17, Buffer.alloc(16, 2));
const http = entry('EAST.CORP.TEST', ['HTTP', 'ca1.east.corp.test'], 18, Buffer.alloc(32, 3));

describe('parseKeytab', () => {
  it.each([
    ['ok/one principal, two enctypes', Buffer.concat([HEAD, aliceAes256, aliceAes128]), ['alice@EAST.CORP.TEST']],
    ['ok/a service principal with two components', Buffer.concat([HEAD, http]), ['HTTP/ca1.east.corp.test@EAST.CORP.TEST']],
    ['ok/a deleted entry (negative size) is skipped', Buffer.concat([HEAD, u32(-aliceAes256.length + 4), aliceAes256.subarray(4), http]), ['HTTP/ca1.east.corp.test@EAST.CORP.TEST']],
    ['ok/a zero size ends the file', Buffer.concat([HEAD, aliceAes256, u32(0), Buffer.alloc(20)]), ['alice@EAST.CORP.TEST']],
  ])('%s', (_name, bytes, principals) => {
    expect(keytabPrincipals(bytes)).toEqual(principals);
  });

  it('ok/enctypes are read', () => {
    expect(parseKeytab(Buffer.concat([HEAD, aliceAes256, aliceAes128])).map((e) => e.enctype)).toEqual([18, 17]);
  });

  it.each([
    ['fail/empty', Buffer.alloc(0), 'not a keytab (it must start with 0x05 0x02)'],
    ['fail/a PEM file', Buffer.from('-----BEGIN CERTIFICATE-----'), 'not a keytab (it must start with 0x05 0x02)'],
    ['fail/version 0x0501', Buffer.from([0x05, 0x01, 0, 0, 0, 0]), 'keytab version 0x0501 is not supported (only 0x0502)'],
    ['fail/no entries', HEAD, 'the keytab holds no keys'],
    ['fail/size past the end', Buffer.concat([HEAD, u32(1000), Buffer.alloc(10)]), 'keytab entry at byte 2 runs past the end'],
    ['fail/truncated size', Buffer.concat([HEAD, Buffer.from([0, 0])]), 'keytab truncated at byte 2'],
    ['fail/a component longer than its entry', Buffer.concat([HEAD, u32(6), u16(1), u16(200), Buffer.from('AB')]), 'keytab entry at byte 2 is malformed'],
    ['fail/no components', Buffer.concat([HEAD, entry('EAST.CORP.TEST', [], 18, Buffer.alloc(16))]), 'keytab entry at byte 2 has no principal name'],
  ])('%s', (_name, bytes, message) => {
    expect(() => parseKeytab(bytes)).toThrow(message);
  });
});

describe('krb5Conf', () => {
  it('ok/one realm, its KDCs, no DNS, the service host mapped to the realm', () => {
    expect(krb5Conf('east.corp.test', ['127.0.0.1:8800', 'kdc2.east.corp.test'], 'CA1.east.corp.test').split('\n')).toEqual([
      '[libdefaults]', '  default_realm = EAST.CORP.TEST', '  dns_lookup_kdc = false', '  dns_lookup_realm = false', '  rdns = false', '  dns_canonicalize_hostname = false',
      '[realms]', '  EAST.CORP.TEST = {', '    kdc = 127.0.0.1:8800', '    kdc = kdc2.east.corp.test', '  }',
      '[domain_realm]', '  ca1.east.corp.test = EAST.CORP.TEST', '',
    ]);
  });

  it.each([
    ['fail/a KDC with a newline adds no setting', 'EAST', ['kdc\n[libdefaults]']],
    ['fail/a realm with a brace', 'EAST}', ['kdc']],
  ])('%s', (_name, realm, kdcs) => {
    expect(() => krb5Conf(realm, kdcs)).toThrow(TypeError);
  });
});
