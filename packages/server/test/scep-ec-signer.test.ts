import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pemDecode } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { algorithm, context, integer, octets, oid, printable, seq, setOf } from '../src/enrollment/scep/der-writer.ts';
import { issuerAndSerial } from '../src/enrollment/scep/cms-envelope.ts';
import { decodePkiMessage } from '../src/enrollment/scep/scep-message.ts';
import { tool } from './enrollment-fixtures.ts';
import { ENGINES, bearer, createTestEnv, type TestEnv } from './helpers.ts';
import { certRepStatus } from './scep-message-builder.ts';

/**
 * SCEP requests from clients with EC keys (RFC 8894 allows any signature algorithm CMS does): the
 * key, self-signed certificate, PKCS#10 (with challengePassword), RA envelope and ECDSA signature
 * are all made by openssl; only the SignedData around them is assembled here. The answer's
 * envelope (ECDH key agreement to the client's EC key) is opened by `openssl cms -decrypt`.
 */
const STATIC = 'scep ec challenge 1';
const DIGEST_OID: Record<string, string> = { sha256: '2.16.840.1.101.3.4.2.1', sha384: '2.16.840.1.101.3.4.2.2' };
const ECDSA_OID: Record<string, string> = { sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3' };

describe.each(ENGINES)('SCEP with EC signer certificates on %s', (engine) => {
  let env: TestEnv;
  let work: string;
  const run = async (args: string[]) => {
    const r = await tool('openssl', args, work);
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.out}`);
    return r;
  };
  const post = (body: Buffer) => env.app.inject({ method: 'POST', url: '/scep/default-tls?operation=PKIOperation', headers: { 'content-type': 'application/x-pki-message' }, payload: body });

  /** An EC device made by openssl and its PKCSReq; `tamper` flips a bit of the ECDSA signature. */
  async function ecPkcsReq(name: string, curve: string, digest: string, tamper = false): Promise<Buffer> {
    await fs.writeFile(path.join(work, `${name}.cnf`), `[req]\nprompt=no\ndistinguished_name=dn\nattributes=attrs\n[dn]\nCN=${name}.example.test\n[attrs]\nchallengePassword=${STATIC}\n`);
    await run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}`, '-days', '1', '-out', `${name}.pem`]);
    await run(['req', '-new', '-key', `${name}.key`, '-config', `${name}.cnf`, '-outform', 'DER', '-out', `${name}.csr.der`]);
    await run(['cms', '-encrypt', '-binary', '-aes-128-cbc', '-in', `${name}.csr.der`, '-outform', 'DER', '-out', `${name}.env.der`, 'ra.pem']);
    const envelope = await fs.readFile(path.join(work, `${name}.env.der`));
    const cert = pemDecode(await fs.readFile(path.join(work, `${name}.pem`), 'utf8'), 'CERTIFICATE');
    const attr = (type: string, value: Uint8Array) => seq(oid(type), setOf(value));
    const attrs = setOf(
      attr('1.2.840.113549.1.9.3', oid('1.2.840.113549.1.7.1')),
      attr('1.2.840.113549.1.9.4', octets(createHash(digest).update(envelope).digest())),
      attr('2.16.840.1.113733.1.9.2', printable('19')),
      attr('2.16.840.1.113733.1.9.7', printable(createHash('sha256').update(cert).digest('hex'))),
      attr('2.16.840.1.113733.1.9.5', octets(randomBytes(16))),
    );
    await fs.writeFile(path.join(work, `${name}.attrs.der`), attrs);
    await run(['dgst', `-${digest}`, '-sign', `${name}.key`, '-out', `${name}.sig`, `${name}.attrs.der`]);
    const signature = await fs.readFile(path.join(work, `${name}.sig`));
    if (tamper) signature[signature.length - 3]! ^= 0x01;
    const implicit = Uint8Array.from(attrs);
    implicit[0] = 0xa0;
    const signer = seq(integer(1), issuerAndSerial(cert), algorithm(DIGEST_OID[digest]!), implicit, algorithm(ECDSA_OID[digest]!), octets(signature));
    const signed = seq(integer(1), setOf(algorithm(DIGEST_OID[digest]!)), seq(oid('1.2.840.113549.1.7.1'), context(0, octets(envelope))), context(0, cert), setOf(signer));
    return Buffer.from(seq(oid('1.2.840.113549.1.7.2'), context(0, signed)));
  }

  beforeAll(async () => {
    env = await createTestEnv(engine);
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-scep-ec-'));
    const res = await env.app.inject({ method: 'PUT', url: '/api/v1/applications/default/enrollment/default-tls', headers: bearer(env.adminToken), payload: { scep: { enabled: true, staticChallenge: STATIC } } });
    await fs.writeFile(path.join(work, 'ra.pem'), res.json().scep.raCertificate);
  });
  afterAll(async () => {
    await env?.close();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it.each([['P-256', 'sha256'], ['P-384', 'sha384']])('ok/an ECDSA %s %s PKCSReq is issued; openssl opens the ECDH answer envelope with the device key', async (curve, digest) => {
    const name = `ec-${curve.toLowerCase()}`;
    const res = await post(await ecPkcsReq(name, curve, digest));
    const rep = certRepStatus(res.rawPayload);
    await fs.writeFile(path.join(work, `${name}.rep.der`), decodePkiMessage(new Uint8Array(res.rawPayload)).envelope!);
    await run(['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', `${name}.rep.der`, '-recip', `${name}.pem`, '-inkey', `${name}.key`, '-out', `${name}.p7.der`]);
    const certs = await run(['pkcs7', '-inform', 'DER', '-in', `${name}.p7.der`, '-print_certs', '-noout']);
    expect([res.statusCode, rep.valid, rep.pkiStatus, certs.out.trim().split('\n')[0]]).toEqual([200, true, '0', `subject=CN = ${name}.example.test`]);
  });

  it('fail/an ECDSA signature that does not verify gets FAILURE badMessageCheck and nothing is issued', async () => {
    const count = async () => Number((await env.core.db.selectFrom('certificates').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const rep = certRepStatus((await post(await ecPkcsReq('ec-tampered', 'P-256', 'sha256', true))).rawPayload);
    expect([rep.valid, rep.pkiStatus, rep.failInfo, await count()]).toEqual([true, '2', '1', before]);
  });

});
