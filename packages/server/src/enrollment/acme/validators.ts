import { createHash } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { parseCertificate } from '@certbridge/pki';
import type { AcmeChallengeType, AcmeIdentifier } from './acme-tables.ts';
import { fetchHttp01 } from './http01.ts';
import { AcmeProblem } from './problems.ts';

/** SPEC: CERTBRIDGE_ACME_HTTP01_PORT, CERTBRIDGE_ACME_TLSALPN01_PORT, CERTBRIDGE_ACME_DNS_RESOLVER. */
export interface ValidationOptions {
  http01Port: number;
  tlsAlpn01Port: number;
  /** `host:port` of the DNS server; undefined uses the system's. */
  dnsResolver?: string | undefined;
  timeoutMs?: number;
}

export type Validator = (identifier: AcmeIdentifier, token: string, keyAuthorization: string) => Promise<void>;

/** RFC 8737: id-pe-acmeIdentifier. */
const ACME_IDENTIFIER_OID = '1.3.6.1.5.5.7.1.31';

function makeResolver(spec: string | undefined): Resolver {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  if (spec) resolver.setServers([spec]);
  return resolver;
}

/** The address to connect to: the IP itself, else the first A (then AAAA) record. */
async function addressOf(resolver: Resolver, identifier: AcmeIdentifier): Promise<string> {
  if (identifier.type === 'ip') return identifier.value;
  const v4 = await resolver.resolve4(identifier.value).catch(() => [] as string[]);
  if (v4[0]) return v4[0];
  const v6 = await resolver.resolve6(identifier.value).catch(() => [] as string[]);
  if (v6[0]) return v6[0];
  throw new AcmeProblem('dns', `no A or AAAA record found for ${identifier.value}`);
}

/** RFC 8738 section 6: the reverse-mapping name of an address (in-addr.arpa / ip6.arpa). */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const [head = '', tail] = new URL(`http://[${ip}]/`).hostname.slice(1, -1).split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return `${groups.map((g) => g.padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
}

const hostFor = (address: string) => (isIP(address) === 6 ? `[${address}]` : address);

/**
 * The challenge validators of RFC 8555 section 8.3, 8.4 and RFC 8737, for real over the network.
 * http-01 redirects may lead to https on the tls-alpn-01 port, which stands for 443 (http01.ts).
 */
export function createValidators(options: ValidationOptions): Record<AcmeChallengeType, Validator> {
  const resolver = makeResolver(options.dnsResolver);
  const timeout = options.timeoutMs ?? 10_000;

  const http01: Validator = async (identifier, token, keyAuthorization) => {
    const host = identifier.type === 'ip' ? hostFor(identifier.value) : identifier.value;
    const body = await fetchHttp01(host, token, {
      http01Port: options.http01Port, httpsPort: options.tlsAlpn01Port, timeoutMs: timeout,
      resolve: (name) => addressOf(resolver, { type: 'dns', value: name }),
    });
    if (body.trim() !== keyAuthorization) throw new AcmeProblem('incorrectResponse', `http://${host}/.well-known/acme-challenge/${token} answered ${JSON.stringify(body.slice(0, 100))}, not the key authorization`);
  };

  const dns01: Validator = async (identifier, _token, keyAuthorization) => {
    const name = `_acme-challenge.${identifier.value}`;
    const expected = createHash('sha256').update(keyAuthorization).digest('base64url');
    let records: string[][];
    try {
      records = await resolver.resolveTxt(name);
    } catch (err) {
      throw new AcmeProblem('dns', `no TXT record found at ${name}: ${(err as Error).message}`, { cause: err });
    }
    if (!records.some((chunks) => chunks.join('') === expected)) throw new AcmeProblem('incorrectResponse', `no TXT record at ${name} matches the key authorization digest`);
  };

  const tlsAlpn01: Validator = async (identifier, _token, keyAuthorization) => {
    const address = await addressOf(resolver, identifier);
    const expected = createHash('sha256').update(keyAuthorization).digest();
    // RFC 8738 section 6: an IP identifier is named in SNI by its reverse-mapping name.
    const servername = identifier.type === 'dns' ? identifier.value : reverseName(identifier.value);
    const der = await new Promise<Buffer>((resolve, reject) => {
      const socket = tls.connect({ host: address, port: options.tlsAlpn01Port, ALPNProtocols: ['acme-tls/1'], rejectUnauthorized: false, servername, timeout }, () => {
        const cert = socket.getPeerCertificate(false);
        const protocol = socket.alpnProtocol;
        socket.destroy();
        if (protocol !== 'acme-tls/1') reject(new AcmeProblem('tls', `${identifier.value}:${options.tlsAlpn01Port} did not negotiate acme-tls/1`));
        else if (!cert?.raw) reject(new AcmeProblem('tls', 'no certificate was presented'));
        else resolve(cert.raw);
      });
      socket.on('timeout', () => socket.destroy(new AcmeProblem('connection', `TLS handshake with ${identifier.value} timed out`)));
      socket.on('error', (err) => reject(err instanceof AcmeProblem ? err : new AcmeProblem('tls', `TLS handshake with ${identifier.value} failed: ${err.message}`)));
    });
    checkAlpnCertificate(der, identifier, expected);
  };

  return { 'http-01': http01, 'dns-01': dns01, 'tls-alpn-01': tlsAlpn01 };
}

/** RFC 8737 section 3: one SAN equal to the identifier, and the critical acmeIdentifier extension. */
function checkAlpnCertificate(der: Buffer, identifier: AcmeIdentifier, expected: Buffer): void {
  const cert = parseCertificate(der);
  const want = identifier.value.toLowerCase();
  if (cert.sans.length !== 1 || cert.sans[0]?.type !== identifier.type || cert.sans[0].value.toLowerCase() !== want) {
    throw new AcmeProblem('incorrectResponse', `the certificate names ${cert.sans.map((s) => s.value).join(', ') || 'nothing'}, expected only ${identifier.value}`);
  }
  const ext = cert.extensions.find((e) => e.oid === ACME_IDENTIFIER_OID);
  if (!ext || !ext.critical) throw new AcmeProblem('incorrectResponse', `the certificate lacks the critical ${ACME_IDENTIFIER_OID} extension`);
  // extnValue holds the DER of OCTET STRING (SIZE (32)): 04 20 <SHA-256 of the key authorization>.
  const value = Buffer.from(ext.valueDer);
  if (!value.equals(Buffer.concat([Buffer.from([0x04, 0x20]), expected]))) throw new AcmeProblem('incorrectResponse', 'the acmeIdentifier extension does not hold the key authorization digest');
}
