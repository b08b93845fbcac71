import { describe, expect, it } from 'vitest';
import { VAULT_NAME_PATTERN, vaultName, vaultNameBase } from './vault-names.ts';

const LINEAGE = '2f6c1f0e-8c1a-4c55-9b7e-0d4f1c2b3a49';

describe('vault names', () => {
  it.each([
    ['ok/common name', 'CN=app.example.test, O=Example', null, 'app-example-test'],
    ['ok/wildcard', 'CN=*.corp.example', null, 'wildcard-corp-example'],
    ['ok/upper case and symbols', 'CN=Web_Server #7', null, 'web-server-7'],
    ['ok/no common name uses the profile slug', 'O=Example, C=DE', 'default-tls', 'default-tls'],
    ['ok/nothing usable', 'CN=***', null, 'certificate'],
  ])('%s', (_name, subject, slug, expected) => {
    expect(vaultNameBase(subject, slug)).toBe(expected);
  });

  it('ok/long common names are cut and the full name stays within the Key Vault rules', () => {
    const base = vaultNameBase(`CN=${'a'.repeat(200)}.example`, null);
    expect(base).toHaveLength(90);
    const name = vaultName(base, LINEAGE, true);
    expect(name).toMatch(VAULT_NAME_PATTERN);
    expect(name.length).toBe(90 + 1 + 32);
  });

  it('ok/the same lineage always gets the same name, another lineage another one', () => {
    expect(vaultName('app', LINEAGE)).toBe(vaultName('app', LINEAGE));
    expect(vaultName('app', LINEAGE)).toMatch(/^app-[0-9a-f]{10}$/);
    expect(vaultName('app', LINEAGE)).not.toBe(vaultName('app', '7d1c9f2e-0000-4000-8000-000000000001'));
  });
});
