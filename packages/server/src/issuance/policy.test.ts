import { describe, expect, it } from 'vitest';
import { evaluatePolicy, type RequestFacts } from './policy.ts';
import { policyRulesSchema } from './policy-rules.ts';
import { dnsMatches, ipMatches, isValidCidr, textMatches } from './patterns.ts';

const base: RequestFacts = {
  subject: [{ type: 'CN', oid: '2.5.4.3', value: 'www.corp.example' }],
  sans: [{ type: 'dns', value: 'www.corp.example' }],
  keyAlgorithm: 'EC-P256',
  keyDescription: 'EC-P256',
  keyUsages: ['digitalSignature'],
  extendedKeyUsages: ['serverAuth'],
  validityDays: 90,
};
const rules = (r: unknown) => policyRulesSchema.parse(r);

describe('evaluatePolicy', () => {
  it.each([
    ['ok/permissive defaults allow a plain TLS request', {}, base, []],
    ['fail/denied subject attribute', { subject: { deniedAttributes: ['CN'] } }, base, ['subject.CN']],
    ['fail/attribute outside the allowed list', { subject: { allowedAttributes: ['O'] } }, base, ['subject.CN']],
    ['fail/required attribute missing', { subject: { requiredAttributes: ['O', 'C'] } }, base, ['subject.O', 'subject.C']],
    ['fail/subject value pattern', { subject: { valuePatterns: { CN: ['*.other.example'] } } }, base, ['subject.CN']],
    ['ok/dns pattern matches', { sans: { patterns: { dns: ['*.corp.example'] } } }, base, []],
    ['fail/dns outside pattern', { sans: { patterns: { dns: ['*.other.example'] } } }, base, ['sans[0]']],
    ['fail/dns denied pattern wins', { sans: { patterns: { dns: ['**.example'] }, deniedPatterns: { dns: ['www.*.example'] } } }, base, ['sans[0]']],
    ['fail/san type not allowed', { sans: { allowedTypes: ['ip'] } }, base, ['sans[0]']],
    ['fail/required san type', { sans: { requiredTypes: ['ip'] } }, base, ['sans']],
    ['fail/too many sans', { sans: { maxCount: 0 } }, base, ['sans']],
    ['fail/key algorithm', { keyAlgorithms: ['RSA-3072'] }, base, ['key']],
    ['fail/key usage', { keyUsages: ['keyEncipherment'] }, base, ['keyUsages']],
    ['ok/eku by oid equals eku by name', { extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] }, base, []],
    ['fail/eku', { extendedKeyUsages: ['clientAuth'] }, base, ['extendedKeyUsages']],
    ['fail/validity', { maxValidityDays: 30 }, base, ['validityDays']],
    ['fail/malformed dns name', {}, { ...base, sans: [{ type: 'dns' as const, value: 'bad name!' }] }, ['sans[0]']],
    ['fail/unknown key', {}, { ...base, keyAlgorithm: null, keyDescription: 'RSA-1024' }, ['key']],
    ['ok/ip inside cidr', { sans: { patterns: { ip: ['10.0.0.0/8'] } } }, { ...base, sans: [{ type: 'ip' as const, value: '10.1.2.3' }] }, []],
    ['fail/ip outside cidr', { sans: { patterns: { ip: ['10.0.0.0/8'] } } }, { ...base, sans: [{ type: 'ip' as const, value: '192.0.2.1' }] }, ['sans[0]']],
  ])('%s', (_name, r, facts, fields) => {
    expect(evaluatePolicy(rules(r), facts).map((v) => v.field)).toEqual(fields);
  });

  it('fail/invalid CIDR in a policy is refused when the policy is parsed', () => {
    expect(policyRulesSchema.safeParse({ sans: { patterns: { ip: ['10.0.0.0/33'] } } }).success).toBe(false);
  });

  it('fail/unknown rule keys are refused (typos must not silently allow everything)', () => {
    expect(policyRulesSchema.safeParse({ maxValidityDay: 30 }).success).toBe(false);
  });
});

describe('patterns', () => {
  it.each([
    ['ok/single label wildcard', 'a.example.com', '*.example.com', true],
    ['fail/single label wildcard spans one label only', 'a.b.example.com', '*.example.com', false],
    ['ok/any depth', 'a.b.example.com', '**.example.com', true],
    ['ok/any depth includes the apex', 'example.com', '**.example.com', true],
    ['ok/case-insensitive', 'WWW.Example.COM', 'www.example.com', true],
    ['fail/dot is literal', 'wwwxexample.com', 'www.example.com', false],
  ])('dns %s', (_n, name, pattern, expected) => expect(dnsMatches(name, pattern)).toBe(expected));

  it.each([
    ['ok/email domain', 'alice@corp.example', '*@corp.example', true],
    ['fail/email other domain', 'alice@evil.example', '*@corp.example', false],
  ])('text %s', (_n, value, pattern, expected) => expect(textMatches(value, pattern)).toBe(expected));

  it.each([
    ['ok/v4 in block', '192.0.2.9', '192.0.2.0/24', true],
    ['fail/v4 outside', '198.51.100.1', '192.0.2.0/24', false],
    ['ok/v6 in block', '2001:db8::1', '2001:db8::/32', true],
    ['fail/family mismatch', '192.0.2.9', '2001:db8::/32', false],
    ['ok/bare address', '192.0.2.9', '192.0.2.9', true],
  ])('ip %s', (_n, addr, cidr, expected) => expect(ipMatches(addr, cidr)).toBe(expected));

  it.each([
    ['10.0.0.0/8', true], ['::/0', true], ['10.0.0.0/33', false], ['10.0.0.0/8/1', false], ['nonsense', false], ['10.0.0.0/x', false],
  ])('isValidCidr(%s) = %s', (cidr, expected) => expect(isValidCidr(cidr)).toBe(expected));
});
