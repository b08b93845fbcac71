/** Certificate policy checks on import and update. */
import { describe, expect, it } from 'vitest';
import { KeyVaultError } from './errors.ts';
import { hasAutoRenew, mergePolicy, declaredContentType, type Policy } from './policy.ts';

const base: Policy = { issuer: { name: 'Unknown' }, lifetime_actions: [{ trigger: { lifetime_percentage: 80 }, action: { action_type: 'EmailContacts' } }], secret_props: { contentType: 'application/x-pkcs12' } };

function messageOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof KeyVaultError) return `${e.status} ${e.code}: ${e.message}`;
    throw e;
  }
}

describe('mergePolicy', () => {
  it('ok/no policy keeps the base; a new issuer and lifetime actions replace the old', () => {
    expect(mergePolicy(base, undefined)).toBe(base);
    const merged = mergePolicy(base, { issuer: { name: 'Self' }, lifetime_actions: [{ trigger: { days_before_expiry: 30 }, action: { action_type: 'AutoRenew' } }] });
    expect([merged.issuer, merged.lifetime_actions, merged.secret_props, hasAutoRenew(merged)]).toEqual([
      { name: 'Self' }, [{ trigger: { days_before_expiry: 30 }, action: { action_type: 'AutoRenew' } }], { contentType: 'application/x-pkcs12' }, true,
    ]);
  });

  it.each([
    ['fail/both triggers', [{ trigger: { lifetime_percentage: 80, days_before_expiry: 10 }, action: { action_type: 'EmailContacts' } }], 'exactly one of lifetime_percentage and days_before_expiry is required.'],
    ['fail/no trigger value', [{ trigger: {}, action: { action_type: 'EmailContacts' } }], 'exactly one of lifetime_percentage and days_before_expiry is required.'],
    ['fail/percentage 100', [{ trigger: { lifetime_percentage: 100 }, action: { action_type: 'EmailContacts' } }], 'lifetime_percentage must be between 1 and 99.'],
    ['fail/zero days', [{ trigger: { days_before_expiry: 0 }, action: { action_type: 'AutoRenew' } }], 'days_before_expiry must be a positive integer.'],
    ['fail/unknown action', [{ trigger: { days_before_expiry: 5 }, action: { action_type: 'Renew' } }], 'action_type must be EmailContacts or AutoRenew.'],
    ['fail/not a list', { action_type: 'AutoRenew' }, 'Property policy.lifetime_actions has invalid value.'],
  ])('%s is 400 BadParameter', (_name, lifetime_actions, detail) => {
    expect(messageOf(() => mergePolicy(base, { lifetime_actions }))).toMatch(new RegExp(`^400 BadParameter: .*${detail.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it.each([
    ['fail/empty issuer name', { issuer: { name: '' } }, '400 BadParameter: Property policy.issuer.name is required.'],
    ['fail/policy that is not an object', 'Unknown', '400 BadParameter: Property policy has invalid value.'],
    ['fail/key_props that is not an object', { key_props: 7 }, '400 BadParameter: Property policy.key_props has invalid value.'],
  ])('%s', (_name, input, expected) => {
    expect(messageOf(() => mergePolicy(base, input))).toBe(expected);
  });
});

describe('declaredContentType', () => {
  it.each([
    ['ok/absent means PKCS#12', undefined, 'application/x-pkcs12'],
    ['ok/PEM', { secret_props: { contentType: 'application/x-pem-file' } }, 'application/x-pem-file'],
  ])('%s', (_name, policy, expected) => {
    expect(declaredContentType(policy)).toBe(expected);
  });

  it('fail/another content type is 400 BadParameter', () => {
    expect(messageOf(() => declaredContentType({ secret_props: { contentType: 'text/plain' } }))).toBe('400 BadParameter: Invalid content type: text/plain. Supported are application/x-pkcs12 and application/x-pem-file.');
  });
});
