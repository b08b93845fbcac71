import { exportPrivateKeyPkcs8Der, generateKeyPair, parseDn, randomSerial, signCertificate, spkiOf } from '@certbridge/pki';
import { INTERMEDIATE_CA_NAME } from '../../bootstrap.ts';
import type { CaKeyStore } from '../../cas/ca-keys.ts';
import type { Clock } from '../../clock.ts';
import type { ProfileRow } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import type { CasRepository } from '../../repositories/cas-repository.ts';

const DAY_MS = 86_400_000;
const RA_VALIDITY_DAYS = 730;

/**
 * A SCEP RA certificate (RFC 8894 section 2.1.1: signing and key encipherment) for one profile,
 * RSA-2048 because SCEP clients encrypt to the RA with RSA key transport. Signed by the profile's
 * CA when Certbridge holds its key, else (ADCS profiles) by the Certbridge Intermediate CA.
 * Returns the certificate, its issuer chain (issuer first) and the PKCS#8 key to seal.
 */
export async function issueRaCertificate(deps: { cas: CasRepository; keys: CaKeyStore; clock: Clock }, profile: ProfileRow): Promise<{ certificateDer: Uint8Array; keyPkcs8: Uint8Array }> {
  const own = await deps.cas.find(profile.ca_id);
  const ca = own?.private_key_sealed && own.certificate_der ? own : await deps.cas.find(INTERMEDIATE_CA_NAME);
  if (!ca?.certificate_der || !ca.private_key_sealed) throw new AppError('CA_UNAVAILABLE', `no CA with a key can sign the SCEP RA certificate of profile ${profile.slug}`);
  const pair = generateKeyPair('RSA-2048');
  const now = deps.clock.now();
  const caEnd = ca.not_after?.getTime() ?? Number.POSITIVE_INFINITY;
  const certificateDer = signCertificate({
    serialNumber: randomSerial(),
    subject: parseDn(`CN=${profile.slug} SCEP RA, O=Certbridge`),
    spkiDer: spkiOf(pair.publicKey),
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(Math.min(now.getTime() + RA_VALIDITY_DAYS * DAY_MS, caEnd)),
    keyUsages: ['digitalSignature', 'keyEncipherment'],
  }, await deps.keys.signer(ca));
  return { certificateDer, keyPkcs8: exportPrivateKeyPkcs8Der(pair.privateKey) };
}
