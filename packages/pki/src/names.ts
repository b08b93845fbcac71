import {
  AttributeTypeAndValue,
  AttributeValue,
  Name,
  RelativeDistinguishedName,
} from '@peculiar/asn1-x509';
import { PkiError } from './errors.ts';

/**
 * Distinguished names (RFC 5280 section 4.1.2.4, string form RFC 4514).
 *
 * A `DistinguishedName` lists attributes in RFC 4514 string order: most specific first
 * ("CN=a, O=b"). RFC 4514 section 2.1 writes RDNs in reverse of their ASN.1 order, so
 * `toAsnName` reverses the list and `fromAsnName` reverses it back; this matches how
 * Windows/ADCS, Java and Go display subjects. Multi-valued RDNs are flattened on parse and
 * written as single-valued RDNs.
 */
export interface NameAttribute { type: string; oid: string; value: string }
export type DistinguishedName = NameAttribute[];

/** Short name -> OID. RFC 4514 section 3 names plus those ADCS and OpenSSL commonly print. */
const SHORT_NAMES: Record<string, string> = {
  CN: '2.5.4.3', SN: '2.5.4.4', SERIALNUMBER: '2.5.4.5', C: '2.5.4.6', L: '2.5.4.7', ST: '2.5.4.8',
  STREET: '2.5.4.9', O: '2.5.4.10', OU: '2.5.4.11', T: '2.5.4.12', TITLE: '2.5.4.12',
  POSTALCODE: '2.5.4.17', GN: '2.5.4.42', GIVENNAME: '2.5.4.42',
  E: '1.2.840.113549.1.9.1', EMAILADDRESS: '1.2.840.113549.1.9.1',
  DC: '0.9.2342.19200300.100.1.25', UID: '0.9.2342.19200300.100.1.1',
};
/** OID -> the canonical short name we print. */
const OID_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.4': 'SN', '2.5.4.5': 'SERIALNUMBER', '2.5.4.6': 'C', '2.5.4.7': 'L',
  '2.5.4.8': 'ST', '2.5.4.9': 'STREET', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.12': 'T',
  '2.5.4.17': 'POSTALCODE', '2.5.4.42': 'GN', '1.2.840.113549.1.9.1': 'E',
  '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
};
/** Attributes RFC 5280 appendix A requires as PrintableString (C, serialNumber) or IA5String (emailAddress, DC). */
const PRINTABLE = new Set(['2.5.4.6', '2.5.4.5']);
const IA5 = new Set(['1.2.840.113549.1.9.1', '0.9.2342.19200300.100.1.25']);
const PRINTABLE_CHARS = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const OID_TEXT = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/** Resolves "CN", "cn", "emailAddress" or a dotted OID to a `NameAttribute` head; PkiError otherwise. */
export function nameAttribute(type: string, value: string): NameAttribute {
  const key = type.trim();
  const oid = SHORT_NAMES[key.toUpperCase()] ?? (OID_TEXT.test(key) ? key : undefined);
  if (!oid) throw new PkiError('UNSUPPORTED', `unknown name attribute type "${type}"`);
  return { type: OID_NAMES[oid] ?? oid, oid, value };
}

/** The attribute for an OID and decoded value, with our short name when we have one. */
export function nameAttributeFromOid(oid: string, value: string): NameAttribute {
  return { type: OID_NAMES[oid] ?? oid, oid, value };
}

/** Splits on `sep` outside backslash escapes; keeps escapes for `unescape`. */
function splitUnescaped(text: string, seps: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\') { cur += ch + (text[i + 1] ?? ''); i++; continue; }
    if (seps.includes(ch)) { parts.push(cur); cur = ''; continue; }
    cur += ch;
  }
  parts.push(cur);
  return parts;
}

/** RFC 4514 section 3 value unescaping: `\,` style pairs and `\XX` hex pairs (UTF-8 bytes). */
function unescapeValue(raw: string, attr: string): string {
  const bytes: number[] = [];
  const text = raw.replace(/^\s+/, '').replace(/(?<!\\)\s+$/, '');
  if (text.startsWith('#')) throw new PkiError('UNSUPPORTED', `${attr}: hex-encoded (#) values are not supported`);
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch !== '\\') { bytes.push(...Buffer.from(ch, 'utf8')); continue; }
    const next = text.slice(i + 1, i + 3);
    if (/^[0-9A-Fa-f]{2}$/.test(next)) { bytes.push(parseInt(next, 16)); i += 2; continue; }
    const esc = text[i + 1];
    if (esc === undefined || !' "#+,;<=>\\'.includes(esc)) throw new PkiError('MALFORMED', `${attr}: bad escape in DN value`);
    bytes.push(esc.charCodeAt(0)); i++;
  }
  const value = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  if (value.length === 0) throw new PkiError('MALFORMED', `${attr}: empty value`);
  return value;
}

/** Parses an RFC 4514 string ("CN=a\\,b, O=c") into attributes, in string order. Commas or semicolons separate RDNs. */
export function parseDn(text: string): DistinguishedName {
  if (typeof text !== 'string' || text.trim() === '') throw new PkiError('MALFORMED', 'empty distinguished name');
  const dn: DistinguishedName = [];
  for (const rdn of splitUnescaped(text, ',;')) {
    for (const atv of splitUnescaped(rdn, '+')) {
      const eq = atv.indexOf('=');
      if (eq <= 0) throw new PkiError('MALFORMED', `distinguished name part "${atv.trim()}" has no TYPE=value`);
      const head = nameAttribute(atv.slice(0, eq), '');
      dn.push({ ...head, value: unescapeValue(atv.slice(eq + 1), head.type) });
    }
  }
  return dn;
}

/** RFC 4514 section 2.4 escaping of one value. */
function escapeValue(value: string): string {
  let out = value.replace(/[\\"+,;<>=]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (/^[ #]/.test(out)) out = `\\${out}`;
  if (/ $/.test(out)) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** Formats attributes in stored order as "CN=a, O=b" (RFC 4514 syntax, ", " separators for readability). */
export function formatDn(dn: DistinguishedName): string {
  return dn.map((a) => `${OID_NAMES[a.oid] ?? a.oid}=${escapeValue(a.value)}`).join(', ');
}

/** Builds the ASN.1 Name (reversed, see module comment) with the string type RFC 5280 asks for per attribute. */
export function toAsnName(dn: DistinguishedName): Name {
  const rdns = [...dn].reverse().map((a) => {
    if (!OID_TEXT.test(a.oid)) throw new PkiError('MALFORMED', `name attribute "${a.type}" has a bad OID`);
    if (typeof a.value !== 'string' || a.value.length === 0) throw new PkiError('MALFORMED', `name attribute ${a.type} is empty`);
    let value: AttributeValue;
    if (IA5.has(a.oid)) {
      if (!/^[\x00-\x7f]*$/.test(a.value)) throw new PkiError('MALFORMED', `${a.type} must be ASCII`);
      value = new AttributeValue({ ia5String: a.value });
    } else if (PRINTABLE.has(a.oid) && PRINTABLE_CHARS.test(a.value)) {
      value = new AttributeValue({ printableString: a.value });
    } else {
      value = new AttributeValue({ utf8String: a.value });
    }
    return new RelativeDistinguishedName([new AttributeTypeAndValue({ type: a.oid, value })]);
  });
  return new Name(rdns);
}

/** Reads an ASN.1 Name into attributes in RFC 4514 order. Non-string values are shown as "#hex" (RFC 4514 section 2.4). */
export function fromAsnName(name: Name): DistinguishedName {
  const dn: DistinguishedName = [];
  for (let i = name.length - 1; i >= 0; i--) {
    for (const atv of name[i] ?? []) {
      const v = atv.value;
      const text = v.anyValue ? `#${Buffer.from(v.anyValue).toString('hex')}` : v.toString();
      dn.push({ type: OID_NAMES[atv.type] ?? atv.type, oid: atv.type, value: text });
    }
  }
  return dn;
}
