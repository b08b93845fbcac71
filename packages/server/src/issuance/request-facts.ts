import { parseDn, PkiError, type DistinguishedName, type San, type SanType } from '@certbridge/pki';
import { AppError } from '../errors.ts';

/** Subject as the API accepts it: a DN string (`CN=a, O=b`) or an object of named attributes. */
export type SubjectInput = string | Record<string, string | string[]>;
/** SANs as the API accepts them: `"dns:a.example"` strings or `{type, value}` objects. */
export type SanInput = string | { type: string; value: string };

const SUBJECT_KEYS: Record<string, string> = {
  commonName: 'CN', organization: 'O', organizationalUnit: 'OU', locality: 'L', state: 'ST', stateOrProvince: 'ST',
  country: 'C', email: 'E', emailAddress: 'E', serialNumber: 'SERIALNUMBER', domainComponent: 'DC', userId: 'UID',
};
const SAN_TYPES: ReadonlySet<string> = new Set<SanType>(['dns', 'ip', 'email', 'uri', 'upn']);

/** Turns the API's subject into a DN; RFC 4514 escaping is applied to object values. */
export function subjectFromInput(input: SubjectInput): DistinguishedName {
  try {
    if (typeof input === 'string') return parseDn(input.includes('=') ? input : `CN=${input}`);
    const parts: string[] = [];
    for (const [key, raw] of Object.entries(input)) {
      const type = SUBJECT_KEYS[key] ?? key.toUpperCase();
      for (const value of Array.isArray(raw) ? raw : [raw]) parts.push(`${type}=${value.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1')}`);
    }
    if (parts.length === 0) throw new AppError('VALIDATION_FAILED', 'the subject is empty');
    return parseDn(parts.join(','));
  } catch (err) {
    if (err instanceof PkiError) throw new AppError('VALIDATION_FAILED', `invalid subject: ${err.message}`);
    throw err;
  }
}

export function sansFromInput(input: SanInput[]): San[] {
  return input.map((item, i) => {
    const [type, value] = typeof item === 'string' ? [item.slice(0, item.indexOf(':')).toLowerCase(), item.slice(item.indexOf(':') + 1)] : [item.type.toLowerCase(), item.value];
    if (!SAN_TYPES.has(type) || !value || (typeof item === 'string' && !item.includes(':'))) {
      throw new AppError('VALIDATION_FAILED', `sans[${i}] must be "dns|ip|email|uri|upn:<value>"`, { index: i });
    }
    return { type: type as SanType, value };
  });
}

/** `CN=a, O=b` plus SAN values, lower-cased, for the inventory's text filter. */
export function searchText(subject: string, sans: San[]): string {
  return [subject, ...sans.map((s) => s.value)].join(' ').toLowerCase();
}
