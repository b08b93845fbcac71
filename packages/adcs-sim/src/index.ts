/**
 * @certbridge/adcs-sim — a Microsoft ADCS web enrollment (certsrv) emulator.
 *
 * `startAdcsSim(config)` starts one HTTPS instance on 127.0.0.1 with its own CA chain and returns
 * its URL, CA certificates, admin token, a state API (the same operations as the /sim/ admin
 * API) and `stop()`.
 */
import { createRuntime, type Acceptors } from './server.ts';
import { certificatePem } from './ca/authority.ts';
import type { CaFlags, SimConfig, SimConfigInput, TemplateConfig } from './config.ts';
import type { RequestRecord } from './state/requests.ts';
import type { AdminResult } from './enroll/ca-service.ts';
import type { Faults, FaultsInput } from './faults.ts';
import { createNtlmAcceptor } from './auth/ntlm/acceptor.ts';

export type { SimConfig, SimConfigInput, TemplateConfig, CaFlags, RequestRecord, AdminResult, Faults, FaultsInput };
export { parseConfig, simConfigSchema } from './config.ts';
export { describe as describeHResult, hresult } from './hresult.ts';

export interface AdcsSim {
  /** `https://<host>:<port>/certsrv/` */
  url: string;
  /** `https://<host>:<port>` */
  baseUrl: string;
  host: string;
  port: number;
  /** Issuing CA then root, PEM. */
  caChainPem: string;
  issuingCaPem: string;
  rootCaPem: string;
  /** The certificate(s) a client must trust for the HTTPS connection (the root). */
  tlsCaPem: string;
  adminToken: string;
  config: SimConfig;
  listRequests(): RequestRecord[];
  getRequest(id: number): RequestRecord | undefined;
  /** Resubmits a pending (or denied) request: it is issued ("Resubmitted by DOMAIN\manager"). */
  approve(id: number): Promise<AdminResult>;
  /** Denies a pending request ("Denied by DOMAIN\manager", 0x80094014). */
  deny(id: number): AdminResult;
  /** Revokes an issued certificate with an RFC 5280 reason code. */
  revoke(id: number, reason?: number): AdminResult;
  setFaults(f: FaultsInput): Promise<Faults>;
  clearFaults(): Promise<Faults>;
  setCaFlags(f: CaFlags): void;
  setTemplates(t: TemplateConfig[]): void;
  /** Resolves when pending state-file writes are on disk. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

async function defaultAcceptors(config: SimConfig): Promise<Acceptors> {
  const out: Acceptors = { ntlm: createNtlmAcceptor(config) };
  if (config.auth.negotiate) {
    const { createKerberosAcceptor } = await import('./auth/kerberos.ts');
    out.negotiate = await createKerberosAcceptor(config);
  }
  return out;
}

/** Starts an emulator instance. Rejects on an invalid configuration or a busy port. */
export async function startAdcsSim(input: SimConfigInput): Promise<AdcsSim> {
  const rt = await createRuntime(input, defaultAcceptors);
  const host = rt.config.host;
  const baseUrl = `https://${host}:${rt.port}`;
  const issuingCaPem = certificatePem(rt.authority.issuing.certificate);
  const rootCaPem = certificatePem(rt.authority.root.certificate);
  return {
    url: `${baseUrl}/certsrv/`,
    baseUrl,
    host,
    port: rt.port,
    caChainPem: issuingCaPem + rootCaPem,
    issuingCaPem,
    rootCaPem,
    tlsCaPem: rootCaPem,
    adminToken: rt.config.adminToken,
    config: rt.config,
    listRequests: () => rt.service.list(),
    getRequest: (id) => rt.service.get(id),
    approve: (id) => rt.service.approve(id, rt.config.users),
    deny: (id) => rt.service.deny(id),
    revoke: (id, reason = 0) => rt.service.revoke(id, reason),
    setFaults: async (f) => {
      const out = rt.faults.set(f);
      await rt.applyFaults();
      return out;
    },
    clearFaults: async () => {
      const out = rt.faults.set({});
      await rt.applyFaults();
      return out;
    },
    setCaFlags: (f) => rt.setCaFlags(f),
    setTemplates: (t) => rt.setTemplates(t),
    flush: () => rt.flush(),
    stop: () => rt.close(),
  };
}
