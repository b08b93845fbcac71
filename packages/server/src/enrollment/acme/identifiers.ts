import { isIP } from 'node:net';
import { z } from 'zod';
import type { San } from '@certbridge/pki';
import type { AcmeChallengeType, AcmeIdentifier } from './acme-tables.ts';
import { AcmeProblem } from './problems.ts';

export const MAX_IDENTIFIERS = 100;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export const identifiersSchema = z.array(z.object({ type: z.string(), value: z.string().max(253) }).passthrough()).min(1).max(MAX_IDENTIFIERS);

/** A DNS name of at least two labels (section 7.1.4), optionally one leading `*.` label (7.1.3). */
function checkDnsName(value: string): void {
  const bare = value.startsWith('*.') ? value.slice(2) : value;
  const labels = bare.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^[0-9]+$/.test(labels.at(-1)!)) {
    throw new AcmeProblem('rejectedIdentifier', `${JSON.stringify(value)} is not a valid DNS name`);
  }
}

/** One identifier of a newOrder, normalised: DNS lower-cased, IP (RFC 8738) canonical; else its own problem. */
export function normaliseIdentifier({ type, value }: { type: string; value: string }): AcmeIdentifier {
  if (type === 'dns') {
    const v = value.toLowerCase();
    checkDnsName(v);
    return { type: 'dns', value: v };
  }
  if (type === 'ip') {
    if (!isIP(value)) throw new AcmeProblem('rejectedIdentifier', `${JSON.stringify(value)} is not an IP address`);
    return { type: 'ip', value: canonicalIp(value) };
  }
  throw new AcmeProblem('unsupportedIdentifier', `identifier type ${JSON.stringify(type)} is not supported (dns and ip are)`);
}

export type Subproblem = NonNullable<AcmeProblem['subproblems']>[number];

/** A subproblem (section 6.7.1) naming the identifier it is about. */
export const subproblem = (problem: AcmeProblem, identifier: { type: string; value: string }): Subproblem =>
  ({ type: problem.urn, detail: problem.message, identifier: { type: identifier.type, value: identifier.value } });

/**
 * Section 6.7.1: one problem for a request with several bad identifiers, each named in a
 * subproblem. The top-level type is theirs when they agree, else `malformed`.
 */
export function identifiersProblem(subproblems: Subproblem[]): AcmeProblem {
  const types = new Set(subproblems.map((p) => p.type));
  const [only] = types;
  const type = types.size === 1 && only ? (only.slice('urn:ietf:params:acme:error:'.length) as AcmeProblem['type']) : 'malformed';
  const detail = subproblems.length === 1 ? subproblems[0]!.detail : `${subproblems.length} identifiers were refused: ${subproblems.map((p) => p.identifier.value).join(', ')}`;
  return new AcmeProblem(type, detail, { subproblems });
}

/**
 * Normalises the identifiers of a newOrder (duplicates removed, sorted). Every bad one is
 * reported at once: `unsupportedIdentifier` or `rejectedIdentifier` per identifier, as subproblems.
 */
export function normaliseIdentifiers(input: { type: string; value: string }[]): AcmeIdentifier[] {
  const out = new Map<string, AcmeIdentifier>();
  const bad: Subproblem[] = [];
  for (const identifier of input) {
    try {
      const n = normaliseIdentifier(identifier);
      out.set(`${n.type}:${n.value}`, n);
    } catch (err) {
      if (!(err instanceof AcmeProblem)) throw err;
      bad.push(subproblem(err, identifier));
    }
  }
  if (bad.length) throw identifiersProblem(bad);
  return [...out.values()].sort((a, b) => (a.type + a.value < b.type + b.value ? -1 : 1));
}

function canonicalIp(value: string): string {
  if (isIP(value) === 4) return value.split('.').map((o) => String(Number(o))).join('.');
  return new URL(`http://[${value}]/`).hostname.slice(1, -1);
}

/** Challenge types offered for an identifier: wildcards only by dns-01 (7.1.3), IPs never by dns-01 (RFC 8738). */
export function challengeTypesFor(identifier: AcmeIdentifier): AcmeChallengeType[] {
  if (identifier.type === 'ip') return ['http-01', 'tls-alpn-01'];
  if (identifier.value.startsWith('*.')) return ['dns-01'];
  return ['http-01', 'dns-01', 'tls-alpn-01'];
}

/**
 * The names a CSR asks for (its DNS and IP SANs, plus a CN that is not among them), compared
 * with the order's identifiers (section 7.4: they must be exactly the same set).
 */
export function csrMatchesOrder(csr: { subject: { type: string; value: string }[]; sans: San[] }, identifiers: AcmeIdentifier[]): string | null {
  const fromCsr = new Set<string>();
  for (const san of csr.sans) {
    if (san.type === 'dns') fromCsr.add(`dns:${san.value.toLowerCase()}`);
    else if (san.type === 'ip') fromCsr.add(`ip:${canonicalIp(san.value)}`);
    else return `the CSR carries a ${san.type} SAN, which ACME cannot authorize`;
  }
  for (const attr of csr.subject) {
    if (attr.type !== 'CN') continue;
    const cn = attr.value.toLowerCase();
    const key = isIP(cn) ? `ip:${canonicalIp(cn)}` : `dns:${cn}`;
    if (!fromCsr.has(key)) return `the CSR common name ${attr.value} is not among its SANs`;
  }
  const wanted = new Set(identifiers.map((i) => `${i.type}:${i.value}`));
  const missing = [...wanted].filter((k) => !fromCsr.has(k));
  const extra = [...fromCsr].filter((k) => !wanted.has(k));
  if (missing.length || extra.length) {
    return `the CSR names differ from the order${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; not in the order ${extra.join(', ')}` : ''}`;
  }
  return null;
}
