import { AdcsClient, isAdcsError, type SubmitResult } from '@certbridge/adcs-client';
import { buildCsr, buildPkcs12, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { CertutilError, certutilOptions, revokeWithCertutil, type CertutilOptions } from './certutil.ts';
import type { AdcsOptionsWire, JobSpec, SubmitOutcome } from './protocol.ts';

export type JobAnswer = { ok: true; result: unknown } | { ok: false; error: { message: string; retryable: boolean; answerLost?: boolean } };

const derOf = (pem: string): Uint8Array => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));

/**
 * Runs jobs against ADCS with adcs-client. One pooled client per set of connection options, so
 * NTLM/Kerberos handshakes are reused across jobs as on the server. A thrown AdcsError becomes a
 * failure answer carrying its `retryable` flag (the server fails over on it). `revoke` runs
 * certutil instead (it needs no ADCS web enrollment connection).
 */
export function createJobHandlers(options: { certutil?: CertutilOptions } = {}) {
  const certutil = options.certutil ?? certutilOptions(process.env);
  const clients = new Map<string, AdcsClient>();
  const client = (o: AdcsOptionsWire): AdcsClient => {
    const key = JSON.stringify(o);
    let c = clients.get(key);
    if (!c) {
      // The keytab arrives as base64; the client writes it into its private cache directory.
      const { keytab, ...rest } = o;
      c = new AdcsClient({ ...rest, ...(keytab ? { keytab: new Uint8Array(Buffer.from(keytab, 'base64')) } : {}) });
      clients.set(key, c);
    }
    return c;
  };

  async function enrollKeygen(c: AdcsClient, job: Extract<JobSpec, { kind: 'enroll-keygen' }>): Promise<SubmitOutcome> {
    const pair = generateKeyPair(job.keyAlgorithm);
    const csrPem = pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(job.subject), sans: job.sans, privateKey: pair.privateKey, publicKey: pair.publicKey }));
    const r = await c.submit({ csrPem, template: job.template });
    if (r.status !== 'issued') return r;
    const chain = await c.caChain().catch(() => []);
    // The key exists only in this PKCS#12, encrypted under the requester's password.
    const p12 = buildPkcs12({ privateKey: pair.privateKey, certificateDer: derOf(r.certificatePem), chainDer: chain.map(derOf), password: job.password });
    return { ...r, pkcs12: Buffer.from(p12).toString('base64') };
  }

  async function run(job: JobSpec, adcs: AdcsOptionsWire | undefined): Promise<unknown> {
    if (job.kind === 'revoke') return revokeWithCertutil(job, certutil);
    if (!adcs) throw new Error('the job names no ADCS connection');
    const c = client(adcs);
    switch (job.kind) {
      case 'templates': return c.templates();
      case 'ca-chain': return c.caChain();
      case 'submit': {
        const r: SubmitResult = await c.submit({ csrPem: job.csrPem, template: job.template, ...(job.sans ? { sans: job.sans } : {}), ...(job.notAfter ? { validity: { notAfter: new Date(job.notAfter) } } : {}) });
        return r;
      }
      case 'retrieve': return c.retrieve(job.requestId);
      case 'enroll-keygen': return enrollKeygen(c, job);
    }
  }

  return {
    async handle(job: JobSpec, adcs: AdcsOptionsWire | undefined): Promise<JobAnswer> {
      try {
        return { ok: true, result: await run(job, adcs) };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return {
          ok: false, error: {
            message: message.slice(0, 4000), retryable: isAdcsError(err) || err instanceof CertutilError ? err.retryable : false,
            ...(isAdcsError(err) && err.answerLost ? { answerLost: true } : {}),
          },
        };
      }
    },
    async close(): Promise<void> {
      await Promise.all([...clients.values()].map((c) => c.close()));
      clients.clear();
    },
  };
}

export type JobHandlers = ReturnType<typeof createJobHandlers>;
