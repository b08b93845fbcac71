import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pemEncode, REVOCATION_REASON_CODES, type RevocationReason } from '@certbridge/pki';
import { verifyAuditChain } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { loadConfig } from '../config/config.ts';
import type { Core } from '../core.ts';
import { AppError } from '../errors.ts';
import { keyAlgorithmSchema } from '../issuance/policy-rules.ts';
import { sansFromInput, subjectFromInput } from '../issuance/request-facts.ts';
import type { BootstrapResult } from '../bootstrap.ts';
import { isClusterWorker, reportListening, startWorkers } from '../cluster.ts';
import { openCore, startServer } from '../server.ts';
import { connectorCommands } from './connector-commands.ts';
import { ordersCommands } from './orders-commands.ts';
import { scepCommands } from './scep-commands.ts';

/** The CLI acts as the built-in `admin` user, as it runs with access to the database itself. */
async function cliPrincipal(core: Core): Promise<Principal> {
  const admin = await core.repos.users.findByUsername('admin');
  if (!admin) throw new CliError('no admin user yet: run `certbridge serve` once to bootstrap');
  return { userId: admin.id, username: 'admin', role: 'admin', via: 'system' };
}

export class CliError extends Error {}

type Output = (line: string) => void;
export interface Command {
  summary: string;
  usage: string;
  run(args: string[], out: Output): Promise<number>;
}

/** Opens the core for one command and always closes the database afterwards. */
async function withCore<T>(fn: (core: Core) => Promise<T>): Promise<T> {
  const { handle, core } = await openCore(loadConfig());
  try {
    return await fn(core);
  } finally {
    await handle.close();
  }
}

const parse = (args: string[], options: NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>) => parseArgs({ args, options, allowPositionals: false, strict: true }).values;

/** The start-up lines of `serve` (the bench and the tests wait for the first one). */
function printListening(out: Output, httpUrl: string, httpsUrl: string, b: BootstrapResult, workers: number): void {
  out(`Certbridge is listening on ${httpUrl} and ${httpsUrl}${workers > 1 ? ` (${workers} worker processes)` : ''}`);
  if (b.firstStart) {
    out(`First start: log in as admin with password ${b.adminPassword} (POST ${httpUrl}/api/v1/auth/login; API docs at ${httpUrl}/docs)`);
    out(`The admin API token is in ${b.tokenFile}; the root CA certificate is in ${b.rootCaFile}`);
  } else {
    out(`Admin API token: ${b.tokenFile}; root CA certificate: ${b.rootCaFile}`);
  }
}

export const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'Serve the API, UI and protocol endpoints (bootstraps on first start)',
    usage: 'certbridge serve',
    async run(_args, out) {
      const config = loadConfig();
      // Listen for stop signals before saying we are up: a supervisor may send one at once.
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      if (config.workers > 1 && !isClusterWorker()) {
        const workers = await startWorkers(config.workers, (line) => console.error(`certbridge: ${line}`));
        printListening(out, workers.ready.httpUrl, workers.ready.httpsUrl, workers.ready.bootstrap, config.workers);
        await stopped;
        await workers.stop();
        return 0;
      }
      const server = await startServer(config);
      if (isClusterWorker()) {
        reportListening({ httpUrl: server.httpUrl, httpsUrl: server.httpsUrl, bootstrap: server.bootstrap });
        await stopped;
        await server.close();
        return 0;
      }
      printListening(out, server.httpUrl, server.httpsUrl, server.bootstrap, 1);
      await stopped;
      await server.close();
      return 0;
    },
  },
  migrate: {
    summary: 'Apply database migrations and exit',
    usage: 'certbridge migrate',
    run: async (_args, out) => withCore(async () => (out('migrations are up to date'), 0)),
  },
  'admin create-token': {
    summary: 'Create an API token for a user (default admin)',
    usage: 'certbridge admin create-token [--user NAME] [--name TEXT] [--expires-days N]',
    run: async (args, out) => {
      const v = parse(args, { user: { type: 'string', default: 'admin' }, name: { type: 'string', default: 'cli token' }, 'expires-days': { type: 'string' } });
      return withCore(async (core) => {
        const user = await core.repos.users.findByUsername(String(v.user));
        if (!user) throw new CliError(`no user named ${v.user}`);
        const days = v['expires-days'] ? Number(v['expires-days']) : undefined;
        if (days !== undefined && !(days > 0)) throw new CliError('--expires-days must be a positive number');
        const token = await core.auth.createToken(await cliPrincipal(core), { name: String(v.name), userId: user.id, expiresAt: days ? new Date(Date.now() + days * 86_400_000) : null });
        out(token.token);
        return 0;
      });
    },
  },
  'audit verify': {
    summary: 'Verify the audit log hash chain (exit 1 when broken)',
    usage: 'certbridge audit verify',
    run: async (_args, out) => withCore(async (core) => {
      const r = await verifyAuditChain(core.db);
      if (r.ok) out(`audit log intact: ${r.rows} rows, head ${r.head}`);
      else out(`audit log BROKEN at row ${r.problem!.seq}: ${r.problem!.message}`);
      return r.ok ? 0 : 1;
    }),
  },
  'ca list': {
    summary: 'List CAs',
    usage: 'certbridge ca list',
    run: async (_args, out) => withCore(async (core) => {
      for (const ca of await core.cas.list(await cliPrincipal(core))) out(`${ca.id}  ${ca.type.padEnd(9)} ${ca.status.padEnd(8)} ${ca.name}  (${ca.subject ?? ''}, until ${ca.not_after?.toISOString() ?? '-'})`);
      return 0;
    }),
  },
  'ca create': {
    summary: 'Create an internal root or intermediate CA',
    usage: 'certbridge ca create --name NAME --subject "CN=…" [--root | --parent CA] [--key EC-P256|EC-P384|RSA-2048|RSA-3072|RSA-4096] [--days N]',
    run: async (args, out) => {
      const v = parse(args, { name: { type: 'string' }, subject: { type: 'string' }, root: { type: 'boolean', default: false }, parent: { type: 'string' }, key: { type: 'string', default: 'EC-P384' }, days: { type: 'string', default: '3650' } });
      if (!v.name || !v.subject) throw new CliError('--name and --subject are required');
      if (!v.root && !v.parent) throw new CliError('give --root or --parent CA');
      const key = keyAlgorithmSchema.safeParse(v.key);
      if (!key.success) throw new CliError(`--key must be one of ${keyAlgorithmSchema.options.join(', ')}`);
      return withCore(async (core) => {
        const ca = await core.cas.create(await cliPrincipal(core), {
          name: String(v.name), subject: String(v.subject), kind: v.root ? 'root' : 'intermediate', keyAlgorithm: key.data, validityDays: Number(v.days),
          ...(v.parent ? { parent: String(v.parent) } : {}),
        });
        out(`${ca.id}  ${ca.name}  ${ca.subject}`);
        return 0;
      });
    },
  },
  'cert issue': {
    summary: 'Issue a certificate from a CSR file, or with a server-generated key',
    usage: 'certbridge cert issue --profile SLUG [--app NAME] (--csr FILE | --cn NAME [--san dns:x]...) [--out FILE]',
    run: async (args, out) => {
      const v = parse(args, { profile: { type: 'string' }, app: { type: 'string', default: 'default' }, csr: { type: 'string' }, cn: { type: 'string' }, san: { type: 'string', multiple: true }, out: { type: 'string' } });
      if (!v.profile) throw new CliError('--profile is required');
      if (!v.csr === !v.cn) throw new CliError('give exactly one of --csr FILE or --cn NAME');
      const csr = v.csr ? await fs.readFile(String(v.csr), 'utf8') : undefined;
      return withCore(async (core) => {
        const actor = await cliPrincipal(core);
        const application = await core.access.require(actor, String(v.app), 'issue');
        const profile = await core.catalog.requireProfile(String(v.profile));
        const ctx = { actor, protocol: 'cli' as const, application, profile };
        const outcome = csr
          ? await core.issuance.issue(ctx, { kind: 'csr', csr })
          : await core.issuance.issue(ctx, { kind: 'keygen', subject: subjectFromInput(String(v.cn)), sans: sansFromInput((v.san as string[] | undefined) ?? []) });
        if (outcome.status === 'pending') return out(`pending: order ${outcome.order.id} (CA request ${outcome.order.ca_request_id})`), 0;
        if (outcome.status === 'denied') throw new CliError(`denied: ${outcome.order.disposition}`);
        const pem = pemEncode('CERTIFICATE', outcome.certificate.der);
        if (v.out) await fs.writeFile(String(v.out), pem);
        out(v.out ? `issued ${outcome.certificate.id} serial ${outcome.certificate.serial_hex} -> ${v.out}` : pem.trimEnd());
        return 0;
      });
    },
  },
  'cert list': {
    summary: 'List certificates, newest first',
    usage: 'certbridge cert list [--limit N] [--status active|revoked|expired] [--q TEXT]',
    run: async (args, out) => {
      const v = parse(args, { limit: { type: 'string', default: '50' }, status: { type: 'string' }, q: { type: 'string' } });
      const status = v.status as 'active' | 'revoked' | 'expired' | undefined;
      if (status && !['active', 'revoked', 'expired'].includes(status)) throw new CliError('--status must be active, revoked or expired');
      return withCore(async (core) => {
        const page = await core.certificates.list(await cliPrincipal(core), { ...(status ? { status } : {}), ...(v.q ? { text: String(v.q) } : {}) }, Math.max(1, Math.min(500, Number(v.limit) || 50)));
        for (const c of page.items) out(`${c.id}  ${c.serial_hex}  ${c.status.padEnd(7)}  ${c.not_after.toISOString()}  ${c.subject}`);
        return 0;
      });
    },
  },
  'cert revoke': {
    summary: 'Revoke a certificate by id',
    usage: 'certbridge cert revoke ID [--reason keyCompromise|superseded|…]',
    run: async (args, out) => {
      const { values, positionals } = parseArgs({ args, options: { reason: { type: 'string', default: 'unspecified' } }, allowPositionals: true, strict: true });
      if (positionals.length !== 1) throw new CliError('give the certificate id');
      const reason = String(values.reason);
      // An unknown reason must be refused before anything is stored: the CRL could not be signed with it.
      if (!(reason in REVOCATION_REASON_CODES)) throw new CliError(`--reason must be one of ${Object.keys(REVOCATION_REASON_CODES).join(', ')}`);
      return withCore(async (core) => {
        const cert = await core.certificates.revoke(await cliPrincipal(core), positionals[0]!, reason as RevocationReason);
        out(`revoked ${cert.id} serial ${cert.serial_hex} (${cert.revocation_reason})`);
        return 0;
      });
    },
  },
  ...ordersCommands({ withCore, cliPrincipal, parse, fail: (message) => new CliError(message) }),
  ...connectorCommands({ withCore, cliPrincipal, parse, fail: (message) => new CliError(message) }),
  ...scepCommands({ withCore, cliPrincipal, parse, fail: (message) => new CliError(message) }),
};

export function describeError(err: unknown): string {
  if (err instanceof CliError || err instanceof AppError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
