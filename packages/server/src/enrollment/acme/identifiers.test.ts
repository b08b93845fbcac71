import { describe, expect, it } from 'vitest';
import { challengeTypesFor, csrMatchesOrder, normaliseIdentifiers } from './identifiers.ts';
import { AcmeProblem } from './problems.ts';
import { reverseName } from './validators.ts';

describe('ACME identifiers', () => {
  it.each([
    ['ok/dns lower-cased and deduplicated', [{ type: 'dns', value: 'A.Example.TEST' }, { type: 'dns', value: 'a.example.test' }], [{ type: 'dns', value: 'a.example.test' }]],
    ['ok/wildcard kept', [{ type: 'dns', value: '*.example.test' }], [{ type: 'dns', value: '*.example.test' }]],
    ['ok/IPv6 canonical', [{ type: 'ip', value: '2001:DB8:0:0::1' }], [{ type: 'ip', value: '2001:db8::1' }]],
  ])('%s', (_n, input, out) => {
    expect(normaliseIdentifiers(input)).toEqual(out);
  });

  it.each([
    ['fail/email type', { type: 'email', value: 'a@b.test' }, 'unsupportedIdentifier'],
    ['fail/single label', { type: 'dns', value: 'localhost' }, 'rejectedIdentifier'],
    ['fail/wildcard in the middle', { type: 'dns', value: 'a.*.example.test' }, 'rejectedIdentifier'],
    ['fail/numeric TLD', { type: 'dns', value: '1.2.3.4' }, 'rejectedIdentifier'],
    ['fail/not an IP', { type: 'ip', value: '300.1.1.1' }, 'rejectedIdentifier'],
  ])('%s', (_n, input, type) => {
    const err = (() => { try { normaliseIdentifiers([input]); } catch (e) { return e; } return null; })();
    expect(err instanceof AcmeProblem ? err.type : err).toBe(type);
  });

  it.each([
    ['ok/plain name', { type: 'dns' as const, value: 'a.test' }, ['http-01', 'dns-01', 'tls-alpn-01']],
    ['ok/wildcard only by dns-01', { type: 'dns' as const, value: '*.a.test' }, ['dns-01']],
    ['ok/IP never by dns-01', { type: 'ip' as const, value: '192.0.2.1' }, ['http-01', 'tls-alpn-01']],
  ])('%s', (_n, identifier, types) => {
    expect(challengeTypesFor(identifier)).toEqual(types);
  });

  it.each([
    ['ok/same names, CN among SANs', ['a.test', 'b.test'], 'a.test', null],
    ['fail/extra SAN', ['a.test', 'c.test'], 'a.test', 'the CSR names differ from the order; missing dns:b.test; not in the order dns:c.test'],
    ['fail/CN not among SANs', ['a.test', 'b.test'], 'z.test', 'the CSR common name z.test is not among its SANs'],
  ])('%s', (_n, sans, cn, result) => {
    const csr = { subject: [{ type: 'CN', value: cn }], sans: sans.map((value) => ({ type: 'dns' as const, value })) };
    expect(csrMatchesOrder(csr, [{ type: 'dns', value: 'a.test' }, { type: 'dns', value: 'b.test' }])).toBe(result);
  });

  it.each([
    ['127.0.0.1', '1.0.0.127.in-addr.arpa'],
    ['2001:db8::567:89ab', 'b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'],
    ['::1', `1.${'0.'.repeat(31)}ip6.arpa`],
  ])('ok/reverse name of %s (RFC 8738 section 6)', (ip, name) => {
    expect(reverseName(ip)).toBe(name);
  });
});
