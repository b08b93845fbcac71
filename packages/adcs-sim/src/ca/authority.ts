/**
 * The emulated CA hierarchy: an offline-style root and the enterprise issuing CA (`corp-SIM-CA`)
 * that signs every request, as in a two-tier ADCS deployment. Keys and certificates are
 * serialisable so a restart (state file) keeps the same chain.
 */
import { type CryptoKeyPair, x509, generateRsaKeys, exportKeyPair, importKeyPair, randomSerial, domainComponents, pem, rsaAlgorithm } from './crypto.ts';
import { caVersionExtension } from './ms-extensions.ts';

export interface StoredKeyPair {
  privateKey: string;
  publicKey: string;
}

/** What the state file keeps about the CA. */
export interface StoredCa {
  root: { keys: StoredKeyPair; certificate: string };
  issuing: { keys: StoredKeyPair; certificate: string };
}

export interface CaIdentity {
  rootName: string;
  issuingName: string;
  dnsDomain: string;
}

/** A CA that can sign: its key pair and certificate. */
export interface SigningCa {
  keys: CryptoKeyPair;
  certificate: x509.X509Certificate;
}

export interface Authority {
  root: SigningCa;
  issuing: SigningCa;
  /** Issuing CA then root, the order certnew.p7b and TLS chains use. */
  chain: x509.X509Certificate[];
  stored: StoredCa;
}

const signingAlgorithm = { name: rsaAlgorithm.name, hash: rsaAlgorithm.hash };
const YEAR_MS = 365 * 24 * 3600 * 1000;

function caKeyUsage(): x509.KeyUsagesExtension {
  return new x509.KeyUsagesExtension(
    x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    true,
  );
}

/** Creates a fresh root + issuing CA (RSA 2048, SHA-256), valid 20 and 10 years. */
export async function createAuthority(id: CaIdentity): Promise<Authority> {
  const now = new Date(Date.now() - 3600_000);
  const dc = domainComponents(id.dnsDomain);
  const rootKeys = await generateRsaKeys();
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${id.rootName}, ${dc}`,
    notBefore: now,
    notAfter: new Date(now.getTime() + 20 * YEAR_MS),
    keys: rootKeys,
    signingAlgorithm,
    extensions: [
      caKeyUsage(),
      new x509.BasicConstraintsExtension(true, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
      caVersionExtension(),
    ],
  });
  const issuingKeys = await generateRsaKeys();
  const issuingCert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${id.issuingName}, ${dc}`,
    issuer: rootCert.subjectName,
    notBefore: now,
    notAfter: new Date(now.getTime() + 10 * YEAR_MS),
    publicKey: issuingKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm,
    extensions: [
      caKeyUsage(),
      new x509.BasicConstraintsExtension(true, 0, true),
      await x509.SubjectKeyIdentifierExtension.create(issuingKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      caVersionExtension(),
    ],
  });
  const stored: StoredCa = {
    root: { keys: await exportKeyPair(rootKeys), certificate: Buffer.from(rootCert.rawData).toString('base64') },
    issuing: { keys: await exportKeyPair(issuingKeys), certificate: Buffer.from(issuingCert.rawData).toString('base64') },
  };
  return assemble({ keys: rootKeys, certificate: rootCert }, { keys: issuingKeys, certificate: issuingCert }, stored);
}

/** Rebuilds the CA from a state file. */
export async function loadAuthority(stored: StoredCa): Promise<Authority> {
  const root = { keys: await importKeyPair(stored.root.keys), certificate: new x509.X509Certificate(stored.root.certificate) };
  const issuing = {
    keys: await importKeyPair(stored.issuing.keys),
    certificate: new x509.X509Certificate(stored.issuing.certificate),
  };
  return assemble(root, issuing, stored);
}

function assemble(root: SigningCa, issuing: SigningCa, stored: StoredCa): Authority {
  return { root, issuing, chain: [issuing.certificate, root.certificate], stored };
}

export function certificatePem(cert: x509.X509Certificate): string {
  return pem(cert.rawData);
}

/** Signs a certificate with the issuing CA. */
export async function signWithIssuing(
  authority: Authority,
  params: Omit<x509.X509CertificateCreateWithKeyParams, 'issuer' | 'signingKey' | 'signingAlgorithm'>,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    ...params,
    issuer: authority.issuing.certificate.subjectName,
    signingKey: authority.issuing.keys.privateKey,
    signingAlgorithm,
  });
}

export interface RevokedEntry {
  serialNumber: string;
  revokedAt: Date;
  reason: number;
}

/** A base CRL of the issuing CA (certcrl.crl?Type=base), valid one week like the ADCS default. */
export async function createCrl(authority: Authority, revoked: RevokedEntry[], crlNumber: number): Promise<x509.X509Crl> {
  const thisUpdate = new Date();
  return x509.X509CrlGenerator.create({
    issuer: authority.issuing.certificate.subjectName,
    thisUpdate,
    nextUpdate: new Date(thisUpdate.getTime() + 7 * 24 * 3600 * 1000),
    signingKey: authority.issuing.keys.privateKey,
    signingAlgorithm,
    entries: revoked.map((r) => ({ serialNumber: r.serialNumber, revocationDate: r.revokedAt, reason: r.reason })),
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(authority.issuing.keys.publicKey),
      // cRLNumber (RFC 5280 5.2.3): INTEGER
      new x509.Extension('2.5.29.20', false, crlNumberDer(crlNumber)),
      caVersionExtension(),
    ],
  });
}

function crlNumberDer(n: number): Uint8Array {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0] & 0x80) bytes.unshift(0);
  return new Uint8Array([0x02, bytes.length, ...bytes]);
}
