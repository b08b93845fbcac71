import { parsePolicyRules } from '../../issuance/catalog-service.ts';
import { dnsMatches, ipMatches } from '../../issuance/patterns.ts';
import { evaluatePolicy } from '../../issuance/policy.ts';
import type { PolicyRules } from '../../issuance/policy-rules.ts';
import type { CatalogRepository } from '../../repositories/catalog-repository.ts';
import type { AcmeRepository } from './acme-repository.ts';
import type { AccountRow, AcmeIdentifier } from './acme-tables.ts';
import type { AcmeDirectory } from './acme-views.ts';
import { identifiersProblem, subproblem, type Subproblem } from './identifiers.ts';
import { AcmeProblem } from './problems.ts';

/**
 * The profile policy's verdict on one name, as finalize would give it for a CSR carrying that
 * SAN: only the SAN rules apply here, because the subject, key and extensions are not known
 * before the CSR arrives.
 */
function policyVerdict(rules: PolicyRules, identifier: AcmeIdentifier): string | null {
  const violations = evaluatePolicy(rules, {
    subject: [], sans: [{ type: identifier.type, value: identifier.value }], keyAlgorithm: rules.keyAlgorithms[0] ?? null, keyDescription: '',
    keyUsages: [], extendedKeyUsages: [], validityDays: 1,
  });
  return violations.find((v) => v.field === 'sans[0]')?.message ?? null;
}

const covers = (patterns: string[], identifier: AcmeIdentifier) =>
  patterns.some((p) => (identifier.type === 'ip' ? ipMatches(identifier.value, p) : dnsMatches(identifier.value, p)));

/**
 * newOrder screening (RFC 8555 section 7.4): names the account's EAB key does not cover and
 * names the profile's policy refuses are `rejectedIdentifier` now, each in its own subproblem
 * (section 6.7.1), instead of an order whose authorizations can be won but never finalized.
 */
export function createOrderScreening(deps: { repo: AcmeRepository; catalog: CatalogRepository }) {
  return {
    async screen(dir: AcmeDirectory, account: AccountRow, identifiers: AcmeIdentifier[]): Promise<void> {
      const patterns = account.eab_key_id ? ((await deps.repo.findEabKey(account.eab_key_id))?.identifier_patterns ?? []) : [];
      const policy = await deps.catalog.findPolicy(dir.profile.policy_id, dir.catalogVersion);
      const rules = policy ? parsePolicyRules(policy.rules) : null;
      if (rules && identifiers.length > rules.sans.maxCount) {
        throw new AcmeProblem('rejectedIdentifier', `policy ${policy!.name} allows at most ${rules.sans.maxCount} names in a certificate; the order has ${identifiers.length}`);
      }
      const bad: Subproblem[] = [];
      for (const identifier of identifiers) {
        if (patterns.length && !covers(patterns, identifier)) {
          bad.push(subproblem(new AcmeProblem('rejectedIdentifier', `the external account key of this account does not cover ${identifier.value}`), identifier));
          continue;
        }
        const verdict = rules ? policyVerdict(rules, identifier) : null;
        if (verdict) bad.push(subproblem(new AcmeProblem('rejectedIdentifier', `policy ${policy!.name} of profile ${dir.profile.slug}: ${verdict}`), identifier));
      }
      if (bad.length) throw identifiersProblem(bad);
    },
  };
}

export type OrderScreening = ReturnType<typeof createOrderScreening>;
