import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import { DirectoryString, GeneralName, OtherName } from '@peculiar/asn1-x509';
import { PkiError } from './errors.ts';

/**
 * Subject alternative names (RFC 5280 section 4.2.1.6) in the five forms Certbridge policies
 * understand. `upn` is the Microsoft UPN otherName (1.3.6.1.4.1.311.20.2.3, UTF8String) that
 * ADCS puts in smart-card and user certificates.
 */
export type SanType = 'dns' | 'ip' | 'email' | 'uri' | 'upn';
export interface San { type: SanType; value: string }

export const OID_UPN = '1.3.6.1.4.1.311.20.2.3';
const ASCII = /^[\x21-\x7e]+$/;

/** Validates and converts one `San` to a GeneralName; PkiError MALFORMED names the bad entry. */
export function sanToGeneralName(san: San): GeneralName {
  const bad = (why: string): PkiError => new PkiError('MALFORMED', `SAN ${san.type}:${String(san.value)}: ${why}`);
  if (typeof san?.value !== 'string' || san.value.length === 0) throw bad('empty value');
  switch (san.type) {
    case 'dns':
      // IA5String; internationalised names must arrive as A-labels (RFC 5280 section 7.2).
      if (!ASCII.test(san.value)) throw bad('DNS names must be ASCII (use punycode A-labels)');
      return new GeneralName({ dNSName: san.value });
    case 'ip':
      if (isIP(san.value) === 0) throw bad('not an IPv4 or IPv6 address');
      return new GeneralName({ iPAddress: san.value });
    case 'email':
      if (!ASCII.test(san.value) || !san.value.includes('@')) throw bad('not an ASCII mailbox');
      return new GeneralName({ rfc822Name: san.value });
    case 'uri':
      if (!ASCII.test(san.value) || !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(san.value)) throw bad('not an absolute URI');
      return new GeneralName({ uniformResourceIdentifier: san.value });
    case 'upn':
      return new GeneralName({
        otherName: new OtherName({ typeId: OID_UPN, value: AsnConvert.serialize(new DirectoryString({ utf8String: san.value })) }),
      });
    default:
      throw new PkiError('UNSUPPORTED', `SAN type "${String(san.type)}" is not supported`);
  }
}

/** Reads GeneralNames into `sans`; names of other forms are described in `other` (e.g. "directoryName") so policies can refuse them. */
export function generalNamesToSans(names: GeneralName[]): { sans: San[]; other: string[] } {
  const sans: San[] = [];
  const other: string[] = [];
  for (const gn of names) {
    if (gn.dNSName !== undefined) sans.push({ type: 'dns', value: gn.dNSName });
    else if (gn.iPAddress !== undefined) sans.push({ type: 'ip', value: gn.iPAddress });
    else if (gn.rfc822Name !== undefined) sans.push({ type: 'email', value: gn.rfc822Name });
    else if (gn.uniformResourceIdentifier !== undefined) sans.push({ type: 'uri', value: gn.uniformResourceIdentifier });
    else if (gn.otherName?.typeId === OID_UPN) sans.push({ type: 'upn', value: readUpn(gn.otherName.value) });
    else if (gn.otherName) other.push(`otherName:${gn.otherName.typeId}`);
    else if (gn.directoryName) other.push('directoryName');
    else if (gn.registeredID) other.push(`registeredID:${gn.registeredID}`);
    else other.push(gn.ediPartyName ? 'ediPartyName' : 'x400Address');
  }
  return { sans, other };
}

function readUpn(value: ArrayBuffer): string {
  const ds = AsnConvert.parse(value, DirectoryString);
  if (ds.utf8String === undefined) throw new PkiError('MALFORMED', 'UPN otherName is not a UTF8String');
  return ds.utf8String;
}
