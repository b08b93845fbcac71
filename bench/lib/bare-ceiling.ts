/**
 * The bare issuance ceiling of bench/issue-internal.ts: what the internal backend's crypto alone
 * costs per certificate (CSR parse + signature verify + certificate sign with @certbridge/pki, no
 * HTTP, no policy, no database), on one thread and on every core at once.
 *
 * The all-cores run is the most any server could issue on this machine: if it is below a target,
 * no design reaches the target here, because the server's crypto cannot be spread over more cores
 * than the machine has and every other part (HTTP, storage, the load generator) only adds to it.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, parseCsr, parseDn, randomSerial, signCertificate, verifyCsrSignature, type Signer } from '@certbridge/pki';

const DAY_MS = 86_400_000;
const WARMUP = 200;

export interface CeilingRun { name: string; ok: number; seconds: number; latenciesMs: number[]; cpuMs: number }

function issuer(): (pem: string) => Uint8Array {
  const caPair = generateKeyPair('EC-P256');
  const caSpki = new Uint8Array(caPair.publicKey.export({ type: 'spki', format: 'der' }));
  const now = new Date();
  const caDer = signCertificate({ serialNumber: randomSerial(), subject: parseDn('CN=Bench CA'), spkiDer: caSpki, notBefore: now, notAfter: new Date(now.getTime() + 3650 * DAY_MS), ca: { pathLength: 0 }, keyUsages: ['keyCertSign', 'cRLSign'] }, { selfSigned: caPair.privateKey });
  const signer: Signer = { certificateDer: caDer, privateKey: caPair.privateKey };
  return (pem) => {
    const csr = parseCsr(pem);
    if (!verifyCsrSignature(csr)) throw new Error('CSR signature does not verify');
    const t = Date.now();
    return signCertificate({
      serialNumber: randomSerial(), subject: csr.subject, spkiDer: csr.spkiDer, sans: csr.sans, notBefore: new Date(t - 60_000), notAfter: new Date(t + 90 * DAY_MS),
      keyUsages: ['digitalSignature', 'keyEncipherment'], extendedKeyUsages: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
      aia: { caIssuers: ['http://pki.bench.test/ca/x.crt'], ocsp: ['http://pki.bench.test/ocsp/x'] }, crlDistributionPoints: ['http://pki.bench.test/crl/x.crl'],
    }, signer);
  };
}

function warmIssuer(csrs: string[]): (pem: string) => Uint8Array {
  const issueOne = issuer();
  for (const pem of csrs.slice(0, WARMUP)) issueOne(pem);
  return issueOne;
}

/** Issues every CSR once on this thread after a warm-up; latency per certificate and CPU per certificate. */
function issueAll(csrs: string[], issueOne = warmIssuer(csrs)): { latenciesMs: number[]; cpuUs: number; startedAt: number; endedAt: number } {
  const latenciesMs: number[] = [];
  const cpuStart = process.cpuUsage();
  const startedAt = performance.timeOrigin + performance.now();
  for (const pem of csrs) {
    const t0 = performance.now();
    issueOne(pem);
    latenciesMs.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpuStart);
  return { latenciesMs, cpuUs: cpu.user + cpu.system, startedAt, endedAt: performance.timeOrigin + performance.now() };
}

/** The ceiling on the calling thread. */
export function bareCeiling(csrs: string[]): CeilingRun {
  const r = issueAll(csrs);
  return { name: 'bare ceiling (1 thread)', ok: csrs.length, seconds: (r.endedAt - r.startedAt) / 1000, latenciesMs: r.latenciesMs, cpuMs: r.cpuUs / 1000 / csrs.length };
}

/**
 * The ceiling with one process per core, all issuing at once (each its own share of `csrs`):
 * certificates over the wall time from the first start to the last end. Processes, as the server
 * scales (CERTBRIDGE_WORKERS), each with its own heap and garbage collector; worker threads of one
 * process measured no better on the machine of 2026-11-23 (both 1.1-1.4× one thread, as one Node
 * thread's garbage collector already keeps the second core partly busy).
 */
export async function bareCeilingOnAllCores(csrs: string[], processes = os.cpus().length): Promise<CeilingRun> {
  const shares = Array.from({ length: processes }, (_, i) => csrs.filter((_c, j) => j % processes === i));
  const children = shares.map(() => fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const next = (child: ChildProcess) => new Promise<unknown>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`bare ceiling process exited with ${code}`)));
  });
  try {
    // Each process warms up on its share, reports ready, and starts only when all are ready.
    const ready = children.map(next);
    children.forEach((child, i) => child.send(shares[i]!));
    await Promise.all(ready);
    const done = children.map(next) as Promise<ReturnType<typeof issueAll>>[];
    for (const child of children) child.send('go');
    const runs = await Promise.all(done);
    const startedAt = Math.min(...runs.map((r) => r.startedAt));
    const endedAt = Math.max(...runs.map((r) => r.endedAt));
    const cpuUs = runs.reduce((sum, r) => sum + r.cpuUs, 0);
    return { name: `bare ceiling (${processes} processes)`, ok: csrs.length, seconds: (endedAt - startedAt) / 1000, latenciesMs: runs.flatMap((r) => r.latenciesMs), cpuMs: cpuUs / 1000 / csrs.length };
  } finally {
    for (const child of children) child.kill();
  }
}

const CHILD_FLAG = '--bare-ceiling-child';
if (process.argv.includes(CHILD_FLAG) && process.send) {
  process.once('message', (share: string[]) => {
    const issueOne = warmIssuer(share); // JIT warm before the barrier
    process.once('message', () => {
      process.send!(issueAll(share, issueOne), () => process.disconnect());
    });
    process.send!('ready');
  });
}
