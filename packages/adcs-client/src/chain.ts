/**
 * Orders a set of CA certificates from the one closest to the leaf up to the root by matching
 * issuer and subject names (RFC 5280 6.1: name chaining). Certificates that do not chain keep
 * their relative order at the end.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { derBlocks } from './pages/certificates.ts';

interface Named { pem: string; subject: string; issuer: string }

function names(pem: string): Named {
  const [der] = derBlocks(Buffer.from(pem, 'latin1'));
  const cert = AsnConvert.parse(der ?? Buffer.alloc(0), Certificate);
  const hex = (v: unknown): string => Buffer.from(AsnConvert.serialize(v)).toString('hex');
  return { pem, subject: hex(cert.tbsCertificate.subject), issuer: hex(cert.tbsCertificate.issuer) };
}

export function orderChain(pems: readonly string[]): string[] {
  const items = pems.map(names);
  const issuers = new Set(items.filter((i) => i.subject !== i.issuer).map((i) => i.issuer));
  // Start from a certificate that issued nothing else in the set.
  const start = items.find((i) => !issuers.has(i.subject)) ?? items[0];
  const ordered: Named[] = [];
  let cur: Named | undefined = start;
  while (cur && !ordered.includes(cur)) {
    ordered.push(cur);
    if (cur.subject === cur.issuer) break;
    const issuer: string = cur.issuer;
    cur = items.find((i) => i.subject === issuer && !ordered.includes(i));
  }
  return [...ordered, ...items.filter((i) => !ordered.includes(i))].map((i) => i.pem);
}
