/** SCEP message attributes (RFC 8894 section 3.2.1) and the CMS algorithms SCEP peers use. */
export const SCEP_ATTR = {
  messageType: '2.16.840.1.113733.1.9.2',
  pkiStatus: '2.16.840.1.113733.1.9.3',
  failInfo: '2.16.840.1.113733.1.9.4',
  senderNonce: '2.16.840.1.113733.1.9.5',
  recipientNonce: '2.16.840.1.113733.1.9.6',
  transactionId: '2.16.840.1.113733.1.9.7',
} as const;

export const CMS = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  rsaEncryption: '1.2.840.113549.1.1.1',
} as const;

/** RFC 8894 section 3.2.1.2 messageType values. */
export const MESSAGE_TYPE = { CertRep: 3, RenewalReq: 17, PKCSReq: 19, CertPoll: 20, GetCert: 21, GetCRL: 22 } as const;
export type MessageTypeName = keyof typeof MESSAGE_TYPE;

/** RFC 8894 section 3.2.1.3 pkiStatus and 3.2.1.4 failInfo. */
export const PKI_STATUS = { SUCCESS: '0', FAILURE: '2', PENDING: '3' } as const;
export const FAIL_INFO = { badAlg: '0', badMessageCheck: '1', badRequest: '2', badTime: '3', badCertId: '4' } as const;
export type FailInfo = keyof typeof FAIL_INFO;

/** Digest OID → node:crypto name. MD5 is refused. */
export const DIGESTS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature OIDs that name their own digest (rsaEncryption and ecPublicKey take the SignerInfo's digestAlgorithm). */
export const SIGNATURE_DIGESTS: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

/**
 * Content encryption OID → node:crypto cipher, key length. Single DES (old clients) is run as
 * 3DES with K1 = K2 = K3, since OpenSSL 3 keeps des-cbc in its legacy provider.
 */
export const CIPHERS: Record<string, { cipher: string; keyLength: number; ivLength: number; singleDes?: true }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyLength: 16, ivLength: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyLength: 24, ivLength: 16 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
  '1.2.840.113549.3.7': { cipher: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
  '1.3.14.3.2.7': { cipher: 'des-ede3-cbc', keyLength: 8, ivLength: 8, singleDes: true },
};

export const DIGEST_OID_BY_NAME: Record<string, string> = Object.fromEntries(Object.entries(DIGESTS).map(([oid, name]) => [name, oid]));
