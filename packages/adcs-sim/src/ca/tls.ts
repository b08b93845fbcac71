/**
 * TLS certificates for the emulated IIS site. Besides the normal server certificate (issued by
 * the CA, like an IIS binding enrolled from its own CA), it makes the broken ones the fault
 * injector swaps in: expired, issued for the wrong host name, and self-signed.
 */
import { isIP } from 'node:net';
import { x509, generateRsaKeys, randomSerial, pem, crypto } from './crypto.ts';
import { signWithIssuing, type Authority } from './authority.ts';

export type TlsVariant = 'valid' | 'expired' | 'wrong-host' | 'self-signed';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** DER of the leaf: RFC 5929 tls-server-end-point hashes this. */
  certDer: Buffer;
}

const DAY = 24 * 3600 * 1000;

function sanFor(host: string): x509.SubjectAlternativeNameExtension {
  const names: x509.JsonGeneralName[] = [isIP(host) ? { type: 'ip', value: host } : { type: 'dns', value: host }];
  if (host !== '127.0.0.1') names.push({ type: 'ip', value: '127.0.0.1' });
  return new x509.SubjectAlternativeNameExtension(names);
}

/** Creates the server certificate (and key) for one variant. */
export async function createTlsMaterial(authority: Authority, host: string, variant: TlsVariant): Promise<TlsMaterial> {
  const keys = await generateRsaKeys();
  const name = variant === 'wrong-host' ? 'wrong-host.invalid' : host;
  const now = Date.now();
  const notBefore = new Date(variant === 'expired' ? now - 400 * DAY : now - 3600_000);
  const notAfter = new Date(variant === 'expired' ? now - 30 * DAY : now + 365 * DAY);
  const extensions = [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1']),
    variant === 'wrong-host' ? new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }]) : sanFor(name),
  ];
  const cert =
    variant === 'self-signed'
      ? await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: randomSerial(), name: `CN=${name}`, notBefore, notAfter, keys, extensions })
      : await signWithIssuing(authority, { serialNumber: randomSerial(), subject: `CN=${name}`, notBefore, notAfter, publicKey: keys.publicKey, extensions });
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  const chain = variant === 'self-signed' ? '' : pem(authority.issuing.certificate.rawData);
  return { key: pem(pkcs8, 'PRIVATE KEY'), cert: pem(cert.rawData) + chain, certDer: Buffer.from(cert.rawData) };
}
