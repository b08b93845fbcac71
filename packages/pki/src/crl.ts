import { AsnConvert, AsnIntegerArrayBufferConverter, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { AuthorityKeyIdentifier as AuthorityKeyIdentifierLite, CRLReason, CertificateList } from '@peculiar/asn1-x509';
import * as der from './der.ts';
import { decodeCrlFast, tbsCertListDer, type FastCrl } from './crl-der.ts';
import { PkiError, check, guard } from './errors.ts';
import { toDer } from './pem.ts';
import { formatDn, fromAsnName } from './names.ts';
import { signBytes, signatureSchemeFor } from './algorithms.ts';
import { issuerContext, type Signer } from './issuer.ts';
import { OID_EXT } from './oids.ts';
import { integerToSerialHex, serialHexToBytes, serialToInteger } from './serial.ts';

/** Certificate revocation lists, v2 (RFC 5280 section 5). */

/** CRLReason values (RFC 5280 section 5.3.1); 7 is unused. */
export const REVOCATION_REASON_CODES = {
  unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4, cessationOfOperation: 5,
  certificateHold: 6, removeFromCRL: 8, privilegeWithdrawn: 9, aACompromise: 10,
} as const satisfies Record<string, number>;
export type RevocationReason = keyof typeof REVOCATION_REASON_CODES;
const REASON_BY_CODE = new Map<number, RevocationReason>(
  Object.entries(REVOCATION_REASON_CODES).map(([k, v]) => [v, k as RevocationReason]));

export function reasonFromCode(code: number): RevocationReason {
  const reason = REASON_BY_CODE.get(code);
  if (!reason) throw new PkiError('MALFORMED', `unknown CRL reason code ${code}`);
  return reason;
}

/**
 * CRLNumber ::= INTEGER (0..MAX) read as bytes: asn1-x509's CRLNumber maps to a JS number,
 * which cannot hold the 20 octets RFC 5280 section 5.2.3 allows.
 */
export class CrlNumberBytes {
  value = new ArrayBuffer(0);
  constructor(value?: ArrayBuffer) { if (value) this.value = value; }
}
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(CrlNumberBytes.prototype, 'value');
AsnType({ type: AsnTypeTypes.Choice })(CrlNumberBytes);

export function bigintToBytes(n: bigint): Uint8Array {
  if (n < 0n) throw new PkiError('MALFORMED', 'crlNumber must not be negative');
  const hex = n.toString(16);
  const bytes = serialHexToBytes(hex);
  // Zero is a legal CRL number but not a legal serial: encode it directly.
  return n === 0n ? Uint8Array.of(0) : serialToInteger(bytes);
}

export interface CrlEntryInput { serialHex: string; revokedAt: Date; reason: RevocationReason }
export interface SignCrlOptions { issuer: Signer; crlNumber: bigint; thisUpdate: Date; nextUpdate: Date; revoked: CrlEntryInput[] }

/**
 * Signs a complete (non-delta) v2 CRL with the CA key, synchronously: authorityKeyIdentifier
 * and cRLNumber extensions (both required by RFC 5280 section 5.2), one entry per revoked
 * serial with a reasonCode unless "unspecified" (section 5.3.1 says SHOULD be absent).
 * Encoded by crl-der.ts (see there for why).
 */
export function signCrl(opts: SignCrlOptions): Uint8Array {
  const ctx = issuerContext(opts.issuer);
  const scheme = signatureSchemeFor(opts.issuer.privateKey);
  for (const d of [opts.thisUpdate, opts.nextUpdate]) {
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new PkiError('MALFORMED', 'thisUpdate/nextUpdate must be valid Dates');
  }
  const entries = opts.revoked.map((r) => {
    if (r.reason === 'removeFromCRL') throw new PkiError('MALFORMED', 'removeFromCRL is only valid in delta CRLs (RFC 5280 section 5.3.1)');
    const code = REVOCATION_REASON_CODES[r.reason];
    if (code === undefined) throw new PkiError('MALFORMED', `unknown revocation reason "${String(r.reason)}"`);
    if (!(r.revokedAt instanceof Date) || Number.isNaN(r.revokedAt.getTime())) throw new PkiError('MALFORMED', `revokedAt of ${r.serialHex} is not a valid Date`);
    return { serialContent: serialToInteger(serialHexToBytes(r.serialHex)), revokedAt: r.revokedAt, ...(code === 0 ? {} : { reasonCode: code }) };
  });
  const tbsDer = tbsCertListDer({
    algorithmDer: scheme.algorithmDer, issuerNameDer: ctx.nameDer, thisUpdate: opts.thisUpdate, nextUpdate: opts.nextUpdate, entries,
    authorityKeyId: ctx.keyId, crlNumberContent: bigintToBytes(opts.crlNumber),
  });
  const signature = signBytes(scheme, opts.issuer.privateKey, tbsDer);
  return der.seq(tbsDer, scheme.algorithmDer, der.bitString(signature));
}

export interface ParsedCrl {
  der: Uint8Array;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate?: Date;
  revoked: { serialHex: string; revokedAt: Date; reason?: RevocationReason }[];
  issuerText: string;
  authorityKeyIdentifier?: string;
}

/** Decodes a CRL (PEM "X509 CRL", bare base64 or DER). Structure only; a CRL without cRLNumber is MALFORMED here. */
export function decodeCrl(input: string | Uint8Array): { der: Uint8Array; list: CertificateList } {
  const der = toDer(input, ['X509 CRL'], 'CRL');
  const list = guard('CRL', () => AsnConvert.parse(der, CertificateList));
  check(list.tbsCertListRaw, 'CRL: missing tbsCertList');
  return { der, list };
}

/** Parses a v2 CRL (PEM "X509 CRL", bare base64 or DER); plain DER through crl-der.ts, the rest through asn1-schema. */
export function parseCrl(input: string | Uint8Array): ParsedCrl {
  const der = toDer(input, ['X509 CRL'], 'CRL');
  let fast: FastCrl | undefined;
  try {
    fast = decodeCrlFast(der);
  } catch {
    // Not plain DER: the general decoder gives the verdict and the error message.
  }
  if (!fast) return parseCrlGeneral(der);
  if (fast.crlNumberHex === undefined) throw new PkiError('MALFORMED', 'CRL has no cRLNumber extension (RFC 5280 section 5.2.3)');
  return {
    der, crlNumber: BigInt(`0x${fast.crlNumberHex}`), thisUpdate: fast.thisUpdate, ...(fast.nextUpdate ? { nextUpdate: fast.nextUpdate } : {}),
    revoked: fast.revoked.map((r) => ({ serialHex: r.serialHex, revokedAt: r.revokedAt, ...(r.reasonCode === undefined ? {} : { reason: reasonFromCode(r.reasonCode) }) })),
    issuerText: formatDn(fast.issuer), ...(fast.authorityKeyIdentifier ? { authorityKeyIdentifier: fast.authorityKeyIdentifier } : {}),
  };
}

/** The asn1-schema decoder: CRLs the fast path declines, and the reference for the differential test. */
export function parseCrlGeneral(input: Uint8Array): ParsedCrl {
  const { der, list } = decodeCrl(input);
  const tbs = list.tbsCertList;
  let crlNumber: bigint | undefined;
  let aki: string | undefined;
  for (const ext of tbs.crlExtensions ?? []) {
    if (ext.extnID === OID_EXT.crlNumber) {
      const bytes = guard('CRL cRLNumber', () => AsnConvert.parse(ext.extnValue.buffer, CrlNumberBytes).value);
      crlNumber = BigInt(`0x${integerToSerialHex(bytes) || '0'}`);
    } else if (ext.extnID === OID_EXT.authorityKeyIdentifier) {
      aki = guard('CRL authorityKeyIdentifier', () => {
        const id = AsnConvert.parse(ext.extnValue.buffer, AuthorityKeyIdentifierLite).keyIdentifier;
        return id ? Buffer.from(id.buffer).toString('hex') : undefined;
      });
    }
  }
  if (crlNumber === undefined) throw new PkiError('MALFORMED', 'CRL has no cRLNumber extension (RFC 5280 section 5.2.3)');
  const revoked = (tbs.revokedCertificates ?? []).map((r) => {
    const reasonExt = r.crlEntryExtensions?.find((e) => e.extnID === OID_EXT.crlReason);
    const reason = reasonExt ? reasonFromCode(guard('CRL entry reasonCode', () => AsnConvert.parse(reasonExt.extnValue.buffer, CRLReason).reason)) : undefined;
    return { serialHex: integerToSerialHex(r.userCertificate), revokedAt: r.revocationDate.getTime(), ...(reason ? { reason } : {}) };
  });
  const issuer = guard('CRL issuer', () => fromAsnName(tbs.issuer));
  return {
    der, crlNumber, thisUpdate: tbs.thisUpdate.getTime(), ...(tbs.nextUpdate ? { nextUpdate: tbs.nextUpdate.getTime() } : {}),
    revoked, issuerText: formatDn(issuer), ...(aki ? { authorityKeyIdentifier: aki } : {}),
  };
}
