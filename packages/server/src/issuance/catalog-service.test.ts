import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { parsePolicyRules, parseProfileDefaults } from './catalog-service.ts';

describe('stored rules and defaults are parsed once per object', () => {
  it('ok/the same stored object gives the same frozen result, with the defaults filled in', () => {
    const stored = { maxValidityDays: 30, sans: { patterns: { dns: ['*.example.test'] } } };
    const first = parsePolicyRules(stored);
    expect(parsePolicyRules(stored)).toBe(first);
    expect([first.maxValidityDays, first.sans.maxCount, first.sans.patterns.dns]).toEqual([30, 100, ['*.example.test']]);
    expect([Object.isFrozen(first), Object.isFrozen(first.sans.patterns.dns)]).toEqual([true, true]);
  });

  it('ok/an equal but different object is parsed on its own (a changed catalogue row is a new object)', () => {
    const a = parseProfileDefaults({ validityDays: 10 });
    const b = parseProfileDefaults({ validityDays: 20 });
    expect([a.validityDays, b.validityDays, b.keyAlgorithm]).toEqual([10, 20, 'EC-P256']);
  });

  it('ok/no stored value (null) gives the schema defaults', () => {
    expect(parseProfileDefaults(null)).toEqual({ validityDays: 90, keyAlgorithm: 'EC-P256', keyUsages: ['digitalSignature', 'keyEncipherment'], extendedKeyUsages: ['serverAuth', 'clientAuth'] });
  });

  it('fail/invalid rules are refused on every call, not remembered as valid', () => {
    const bad = { maxValidityDays: 0 };
    for (let i = 0; i < 2; i++) expect(() => parsePolicyRules(bad)).toThrow(AppError);
  });
});
