/**
 * The emulator's throwaway PKI: a root CA made per start and one server certificate for
 * 127.0.0.1 and localhost that every emulated origin (login, Graph, each vault) presents.
 * Clients trust `caPem`; nothing here is ever reused across runs.
 */
import { generateKeyPair, parseDn, pemEncode, randomSerial, signCertificate, spkiOf, exportPrivateKeyPkcs8Der } from '@certbridge/pki';

export interface TlsMaterial {
  /** The root CA certificate, PEM: what clients must trust. */
  caPem: string;
  /** Server certificate PEM followed by the CA, as a TLS server sends its chain. */
  certPem: string;
  keyPem: string;
}

const DAY = 86_400_000;

/** Creates a fresh root (RSA-2048, like most Azure test roots) and an EC P-256 server certificate. */
export function createTlsMaterial(hostNames: string[] = ['localhost'], now: Date = new Date()): TlsMaterial {
  const caKeys = generateKeyPair('RSA-2048');
  const caDer = signCertificate(
    {
      serialNumber: randomSerial(),
      subject: parseDn('CN=Certbridge Azure Sim Root CA, O=Certbridge Test'),
      spkiDer: spkiOf(caKeys.publicKey),
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 3650 * DAY),
      keyUsages: ['keyCertSign', 'cRLSign'],
      ca: {},
    },
    { selfSigned: caKeys.privateKey },
  );
  const serverKeys = generateKeyPair('EC-P256');
  const serverDer = signCertificate(
    {
      serialNumber: randomSerial(),
      subject: parseDn('CN=azure-sim.localhost'),
      spkiDer: spkiOf(serverKeys.publicKey),
      sans: [...hostNames.map((value) => ({ type: 'dns' as const, value })), { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }],
      notBefore: new Date(now.getTime() - DAY),
      // 397 days: the longest validity TLS clients accept for a leaf.
      notAfter: new Date(now.getTime() + 397 * DAY),
      keyUsages: ['digitalSignature'],
      extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'],
    },
    { certificateDer: caDer, privateKey: caKeys.privateKey },
  );
  const caPem = pemEncode('CERTIFICATE', caDer);
  return {
    caPem,
    certPem: pemEncode('CERTIFICATE', serverDer) + caPem,
    keyPem: pemEncode('PRIVATE KEY', exportPrivateKeyPkcs8Der(serverKeys.privateKey)),
  };
}
