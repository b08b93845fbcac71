import { createHash, randomBytes, sign } from 'node:crypto';
import { buildCsr, generateKeyPair, parseDn, randomSerial, signCertificate, spkiOf } from '@certbridge/pki';
import { issuerAndSerial, sealEnvelope } from '../src/enrollment/scep/cms-envelope.ts';
import { algorithm, context, integer, octets, oid, printable, seq, setOf } from '../src/enrollment/scep/der-writer.ts';
import { decodePkiMessage } from '../src/enrollment/scep/scep-message.ts';

/** A SCEP client's side of RFC 8894 for in-process tests, written with the server's DER writer. */
export const AES128 = '2.16.840.1.101.3.4.1.2';
export const DES3 = '1.2.840.113549.3.7';

export type ClientIdentity = ReturnType<typeof clientIdentity>;

export function clientIdentity(cn: string) {
  const pair = generateKeyPair('RSA-2048');
  const now = Date.now();
  const cert = signCertificate({ serialNumber: randomSerial(), subject: parseDn(`CN=${cn}`), spkiDer: spkiOf(pair.publicKey), notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) }, { selfSigned: pair.privateKey });
  return { ...pair, cert, cn };
}

/** A pkiMessage of any type around `content`, enveloped for the RA and signed by the client (or `signWith`). */
export function pkiMessage(opts: { messageType: number; content: Uint8Array; raCert: Uint8Array; client: ClientIdentity; transactionId?: string; cipher?: string; signWith?: ClientIdentity }): Buffer {
  const envelope = sealEnvelope(opts.content, opts.raCert, opts.cipher ?? AES128);
  const attr = (type: string, value: Uint8Array) => seq(oid(type), setOf(value));
  const attrs = setOf(
    attr('1.2.840.113549.1.9.3', oid('1.2.840.113549.1.7.1')),
    attr('1.2.840.113549.1.9.4', octets(createHash('sha256').update(envelope).digest())),
    attr('2.16.840.1.113733.1.9.2', printable(String(opts.messageType))),
    attr('2.16.840.1.113733.1.9.7', printable(opts.transactionId ?? randomBytes(20).toString('hex'))),
    attr('2.16.840.1.113733.1.9.5', octets(randomBytes(16))),
  );
  const signature = sign('sha256', attrs, (opts.signWith ?? opts.client).privateKey);
  const implicit = Uint8Array.from(attrs);
  implicit[0] = 0xa0;
  const signer = seq(integer(1), issuerAndSerial(opts.client.cert), algorithm('2.16.840.1.101.3.4.2.1'), implicit, algorithm('1.2.840.113549.1.1.1', Uint8Array.of(5, 0)), octets(signature));
  const signed = seq(integer(1), setOf(algorithm('2.16.840.1.101.3.4.2.1')), seq(oid('1.2.840.113549.1.7.1'), context(0, octets(envelope))), context(0, opts.client.cert), setOf(signer));
  return Buffer.from(seq(oid('1.2.840.113549.1.7.2'), context(0, signed)));
}

/** A PKCSReq (messageType 19) for the client's key, with an optional challenge password. */
export function pkcsReq(opts: { raCert: Uint8Array; client: ClientIdentity; challenge?: string; transactionId?: string; cipher?: string; signWith?: ClientIdentity; cn?: string }): Buffer {
  const csr = buildCsr({ subject: parseDn(`CN=${opts.cn ?? `${opts.client.cn}.scep.example.test`}`), privateKey: opts.client.privateKey, publicKey: opts.client.publicKey, ...(opts.challenge ? { challengePassword: opts.challenge } : {}) });
  return pkiMessage({ ...opts, messageType: 19, content: csr });
}

/** A CertPoll (messageType 20): IssuerAndSubject of the pending request, under its transactionID. */
export function certPoll(opts: { raCert: Uint8Array; client: ClientIdentity; transactionId: string }): Buffer {
  const name = issuerAndSerial(opts.client.cert).subarray(0); // any Name pair will do: the server finds the request by transactionID
  return pkiMessage({ ...opts, messageType: 20, content: name });
}

/** pkiStatus and failInfo (PrintableString digits) of a CertRep, with its RA signature check. */
export function certRepStatus(payload: Buffer): { valid: boolean; messageType: number; pkiStatus: string | undefined; failInfo: string | undefined } {
  const der = new Uint8Array(payload);
  const msg = decodePkiMessage(der);
  const text = Buffer.from(der).toString('latin1');
  const after = (oidDer: string) => { const i = text.indexOf(oidDer); return i < 0 ? undefined : text.slice(i + oidDer.length + 4, i + oidDer.length + 5); };
  return { valid: msg.signatureValid, messageType: msg.messageType, pkiStatus: after('\x06\x0a\x60\x86\x48\x01\x86\xf8\x45\x01\x09\x03'), failInfo: after('\x06\x0a\x60\x86\x48\x01\x86\xf8\x45\x01\x09\x04') };
}
