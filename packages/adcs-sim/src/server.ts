/**
 * Composition root of one emulator instance: configuration → state file → CA → TLS → auth →
 * certsrv pages and /sim/ admin API → HTTPS listener. Several instances can run side by side
 * (each on its own port and state file) for failover tests.
 */
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createHash } from 'node:crypto';
import { parseConfig, type CaFlags, type SimConfig, type SimConfigInput, type TemplateConfig } from './config.ts';
import { createAuthority, loadAuthority, certificatePem, type Authority } from './ca/authority.ts';
import { createTlsMaterial, type TlsMaterial, type TlsVariant } from './ca/tls.ts';
import { RequestTable } from './state/requests.ts';
import { readState, StateWriter, type SimState } from './state/state-file.ts';
import { CaService } from './enroll/ca-service.ts';
import { AuthGate, type NtlmAcceptor, type NegotiateAcceptor } from './auth/gate.ts';
import { FaultInjector } from './faults.ts';
import type { AdminDeps } from './admin/api.ts';
import type { CertsrvDeps } from './web/certsrv.ts';
import { createSiteHandler, publication } from './web/site.ts';

/** Optional acceptors plugged in by startAdcsSim (NTLM, Kerberos). */
export interface Acceptors {
  ntlm?: NtlmAcceptor;
  negotiate?: NegotiateAcceptor;
}

export interface SimRuntime {
  config: SimConfig;
  authority: Authority;
  service: CaService;
  faults: FaultInjector;
  server: Server;
  port: number;
  tls: () => TlsMaterial;
  applyFaults: () => Promise<void>;
  caFlags: () => CaFlags;
  setCaFlags: (f: CaFlags) => void;
  templates: () => TemplateConfig[];
  setTemplates: (t: TemplateConfig[]) => void;
  flush: () => Promise<void>;
  close: () => Promise<void>;
}

/** RFC 5929 4.1: hash the certificate with its signature's hash (SHA-256 for MD5/SHA-1/SHA-256). */
export function tlsServerEndPoint(certDer: Buffer): Buffer {
  return createHash('sha256').update(certDer).digest();
}

export async function createRuntime(input: SimConfigInput, makeAcceptors: (config: SimConfig) => Promise<Acceptors>): Promise<SimRuntime> {
  const config = parseConfig(input);
  let port = config.port;
  const saved: SimState | undefined = config.stateFile ? await readState(config.stateFile) : undefined;
  const authority = saved
    ? await loadAuthority(saved.ca)
    : await createAuthority({ rootName: config.rootCaName, issuingName: config.caName, dnsDomain: config.dnsDomain });
  let caFlags = saved?.overrides?.caFlags ?? config.caFlags;
  let templates = saved?.overrides?.templates ?? config.templates;
  let overridden = saved?.overrides !== undefined;
  const writer: StateWriter = new StateWriter(config.stateFile, () => ({
    version: 1,
    ca: authority.stored,
    requests: table.snapshot(),
    overrides: overridden ? { caFlags, templates } : undefined,
  }));
  const table: RequestTable = new RequestTable(saved?.requests, () => void writer.schedule());
  await writer.schedule();

  const service = new CaService({
    authority,
    table,
    domain: config.domain,
    dnsDomain: config.dnsDomain,
    caManager: config.caManager,
    templates: () => templates,
    caFlags: () => caFlags,
    publication: () => publication(config, port),
  });
  const faults = new FaultInjector();
  const tlsCache = new Map<TlsVariant, TlsMaterial>();
  const material = async (v: TlsVariant): Promise<TlsMaterial> => {
    const m = tlsCache.get(v) ?? (await createTlsMaterial(authority, config.host, v));
    tlsCache.set(v, m);
    return m;
  };
  let current = await material('valid');
  const servedCert = new WeakMap<Socket, Buffer>();

  const acceptors = await makeAcceptors(config);
  const gate = new AuthGate({
    auth: () => config.auth,
    directory: { domain: config.domain, dnsDomain: config.dnsDomain, users: config.users },
    host: config.host,
    channelBindingHash: (s) => tlsServerEndPoint(servedCert.get(s) ?? current.certDer),
    ...acceptors,
  });
  const certsrvDeps: CertsrvDeps = {
    caName: config.caName,
    domain: config.domain,
    authority,
    service,
    templates: () => templates,
    maxBodyBytes: config.maxBodyBytes,
  };

  const server = createServer({ key: current.key, cert: current.cert });
  // IIS keeps idle connections 120 s (connectionTimeout); NTLM identities live on them.
  server.keepAliveTimeout = 120_000;
  server.on('secureConnection', (s: TLSSocket) => servedCert.set(s, current.certDer));
  // Every TCP connection, so stop() also ends those that never sent a complete request.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const applyFaults = async (): Promise<void> => {
    const next = await material(faults.current.tls);
    if (next !== current) {
      current = next;
      server.setSecureContext({ key: current.key, cert: current.cert });
    }
  };
  const adminDeps: AdminDeps = {
    token: config.adminToken,
    service,
    users: config.users,
    faults,
    getCaFlags: () => caFlags,
    setCaFlags: (f) => {
      caFlags = f;
      overridden = true;
      void writer.schedule();
    },
    getTemplates: () => templates,
    setTemplates: (t) => {
      templates = t;
      overridden = true;
      void writer.schedule();
    },
    onFaults: applyFaults,
  };

  server.on('request', createSiteHandler({ config, port: () => port, authority, service, faults, gate, certsrv: certsrvDeps, admin: adminDeps }));
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('tlsClientError', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.listen, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : config.port;

  return {
    config,
    authority,
    service,
    faults,
    server,
    port,
    tls: () => current,
    applyFaults,
    caFlags: () => caFlags,
    setCaFlags: adminDeps.setCaFlags,
    templates: () => templates,
    setTemplates: adminDeps.setTemplates,
    flush: () => writer.flush(),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      await writer.flush();
    },
  };
}

export { certificatePem };
