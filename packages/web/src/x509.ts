/**
 * Just enough X.509 (RFC 5280 §4.1) DER reading to show a certificate in the browser: subject,
 * issuer, validity and the extensions with the common ones decoded. No signature checking.
 */
interface Tlv { tag: number; start: number; end: number; contentStart: number }

function readTlv(der: Uint8Array, offset: number): Tlv {
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[offset + 2 + i]!;
    contentStart += count;
  }
  if (contentStart + length > der.length) throw new Error('truncated DER');
  return { tag, start: offset, end: contentStart + length, contentStart };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end;) {
    const tlv = readTlv(der, at);
    out.push(tlv);
    at = tlv.end;
  }
  return out;
}

function oid(der: Uint8Array, tlv: Tlv): string {
  const bytes = der.subarray(tlv.contentStart, tlv.end);
  const parts: number[] = [Math.floor(Math.min(bytes[0]!, 80) / 40), bytes[0]! - Math.floor(Math.min(bytes[0]!, 80) / 40) * 40];
  let value = 0;
  for (const b of bytes.subarray(1)) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) { parts.push(value); value = 0; }
  }
  return parts.join('.');
}

function text(der: Uint8Array, tlv: Tlv): string {
  const bytes = der.subarray(tlv.contentStart, tlv.end);
  if (tlv.tag === 0x1e) return new TextDecoder('utf-16be').decode(bytes);
  return new TextDecoder(tlv.tag === 0x0c ? 'utf-8' : 'latin1').decode(bytes);
}

function time(der: Uint8Array, tlv: Tlv): Date {
  const s = text(der, tlv);
  const full = tlv.tag === 0x17 ? `${Number(s.slice(0, 2)) < 50 ? '20' : '19'}${s}` : s;
  return new Date(`${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)}T${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)}Z`);
}

const NAME_ATTRS: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.5': 'SERIALNUMBER',
  '1.2.840.113549.1.9.1': 'E', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
};

function name(der: Uint8Array, tlv: Tlv): string {
  return children(der, tlv).reverse().flatMap((set) => children(der, set).map((atv) => {
    const [type, value] = children(der, atv);
    const key = NAME_ATTRS[oid(der, type!)] ?? oid(der, type!);
    return `${key}=${text(der, value!)}`;
  })).join(', ');
}

export const EXTENSION_NAMES: Record<string, string> = {
  '2.5.29.14': 'Subject key identifier', '2.5.29.15': 'Key usage', '2.5.29.17': 'Subject alternative name', '2.5.29.19': 'Basic constraints',
  '2.5.29.31': 'CRL distribution points', '2.5.29.32': 'Certificate policies', '2.5.29.35': 'Authority key identifier', '2.5.29.37': 'Extended key usage',
  '1.3.6.1.5.5.7.1.1': 'Authority information access', '1.3.6.1.5.5.7.48.1.5': 'OCSP no check', '1.3.6.1.4.1.311.20.2': 'Certificate template name (Microsoft)',
  '1.3.6.1.4.1.311.21.7': 'Certificate template (Microsoft)', '1.3.6.1.4.1.311.21.10': 'Application policies (Microsoft)', '2.5.29.30': 'Name constraints',
};
const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth', '1.3.6.1.5.5.7.3.3': 'codeSigning', '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping', '1.3.6.1.5.5.7.3.9': 'OCSPSigning', '1.3.6.1.4.1.311.20.2.2': 'smartcardLogon',
};
const KEY_USAGE_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

export interface Extension { oid: string; name: string; critical: boolean; value?: string }
export interface ParsedCertificate { subject: string; issuer: string; notBefore: Date; notAfter: Date; extensions: Extension[] }

function extensionValue(extOid: string, der: Uint8Array, inner: Tlv): string | undefined {
  if (extOid === '2.5.29.15') {
    const bytes = der.subarray(inner.contentStart + 1, inner.end);
    return KEY_USAGE_BITS.filter((_, i) => (bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))).join(', ');
  }
  if (extOid === '2.5.29.37') return children(der, inner).map((t) => EKU_NAMES[oid(der, t)] ?? oid(der, t)).join(', ');
  if (extOid === '2.5.29.19') {
    const [first, second] = children(der, inner);
    const ca = first?.tag === 0x01 && der[first.contentStart] !== 0;
    const path = second ?? (first?.tag === 0x02 ? first : undefined);
    return `CA: ${ca ? 'yes' : 'no'}${path ? `, path length ${der[path.contentStart]}` : ''}`;
  }
  if (extOid === '1.3.6.1.5.5.7.1.1' || extOid === '2.5.29.31') return uris(der, inner).join(', ');
  if (extOid === '2.5.29.14') return hex(der.subarray(inner.contentStart, inner.end));
  if (extOid === '2.5.29.35') {
    const keyId = children(der, inner).find((t) => t.tag === 0x80);
    return keyId ? hex(der.subarray(keyId.contentStart, keyId.end)) : undefined;
  }
  return undefined;
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');

/** Every uniformResourceIdentifier ([6] IA5String) below a structure: AIA and CDP URLs. */
function uris(der: Uint8Array, tlv: Tlv): string[] {
  if (tlv.tag === 0x86) return [text(der, tlv)];
  if (!(tlv.tag & 0x20)) return [];
  return children(der, tlv).flatMap((child) => uris(der, child));
}

/** Parses a PEM or DER certificate; throws on bytes that are not one. */
export function parseCertificate(input: string | Uint8Array): ParsedCertificate {
  const der = typeof input === 'string' ? pemToDer(input) : input;
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0]!;
  const fields = children(der, tbs);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0;
  const validity = children(der, fields[offset + 3]!);
  const extensions: Extension[] = [];
  const extWrapper = fields.find((f) => f.tag === 0xa3);
  if (extWrapper) {
    for (const ext of children(der, children(der, extWrapper)[0]!)) {
      const parts = children(der, ext);
      const extOid = oid(der, parts[0]!);
      const critical = parts.length === 3 && der[parts[1]!.contentStart] !== 0;
      const octets = parts.at(-1)!;
      let value: string | undefined;
      try { value = extensionValue(extOid, der, readTlv(der, octets.contentStart)); } catch { value = undefined; }
      extensions.push({ oid: extOid, name: EXTENSION_NAMES[extOid] ?? extOid, critical, ...(value !== undefined ? { value } : {}) });
    }
  }
  return {
    issuer: name(der, fields[offset + 2]!), subject: name(der, fields[offset + 4]!),
    notBefore: time(der, validity[0]!), notAfter: time(der, validity[1]!), extensions,
  };
}

export function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END)[^-]+-----/g, '').replace(/\s+/g, '');
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

/** Colon-separated hex digest, or null where WebCrypto is unavailable (plain http off localhost). */
export async function fingerprint(der: Uint8Array, algorithm: 'SHA-1' | 'SHA-256'): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null;
  const digest = new Uint8Array(await crypto.subtle.digest(algorithm, der as unknown as ArrayBuffer));
  return hex(digest);
}
