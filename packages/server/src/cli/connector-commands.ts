import type { parseArgs } from 'node:util';
import type { Principal } from '../auth/principal.ts';
import type { Core } from '../core.ts';

type Output = (line: string) => void;
type Options = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;
interface CommandLike { summary: string; usage: string; run(args: string[], out: Output): Promise<number> }

/** What the connector commands borrow from the CLI (commands.ts), passed in to avoid an import cycle. */
export interface CliHelpers {
  withCore<T>(fn: (core: Core) => Promise<T>): Promise<T>;
  cliPrincipal(core: Core): Promise<Principal>;
  parse(args: string[], options: Options): Record<string, string | boolean | (string | boolean)[] | undefined>;
  fail(message: string): Error;
}

/**
 * `certbridge connectors list|create|token|revoke` (issue 7): the same operations as
 * `/api/v1/connectors`, as the admin user, on the database directly. A registration token is
 * printed once and never stored in clear. A revocation reaches a running server's socket within
 * its dispatch interval (the hub re-reads connector status from the database).
 */
export function connectorCommands(cli: CliHelpers): Record<string, CommandLike> {
  const nameOption = { name: { type: 'string' as const } };
  const required = (v: Record<string, unknown>, key: string): string => {
    const value = v[key];
    if (typeof value !== 'string' || !value) throw cli.fail(`--${key} is required`);
    return value;
  };
  return {
    'connectors list': {
      summary: 'List on-prem connectors: status, online, version, site, certificate expiry, jobs done/failed',
      usage: 'certbridge connectors list',
      run: async (_args, out) => cli.withCore(async (core) => {
        for (const c of await core.connectors.service.list(await cli.cliPrincipal(core))) {
          const online = core.connectors.service.isOnline(c) ? 'online' : 'offline';
          out(`${c.id}  ${c.name}  ${c.status} ${online}  site=${c.site || '-'} version=${c.version ?? '-'} cert-until=${c.cert_not_after?.toISOString() ?? '-'} done=${c.jobs_done} failed=${c.jobs_failed}`);
        }
        return 0;
      }),
    },
    'connectors create': {
      summary: 'Create a connector and print its one-time registration token',
      usage: 'certbridge connectors create --name NAME [--site TEXT]',
      run: async (args, out) => {
        const v = cli.parse(args, { ...nameOption, site: { type: 'string', default: '' } });
        const name = required(v, 'name');
        return cli.withCore(async (core) => {
          const created = await core.connectors.service.create(await cli.cliPrincipal(core), { name, site: String(v['site'] ?? '') });
          out(`${created.connector.id}  ${created.connector.name}`);
          out(`registration token (shown once, valid until ${created.expiresAt.toISOString()}): ${created.token}`);
          return 0;
        });
      },
    },
    'connectors token': {
      summary: 'Print a new one-time registration token for a connector',
      usage: 'certbridge connectors token --name NAME',
      run: async (args, out) => {
        const name = required(cli.parse(args, nameOption), 'name');
        return cli.withCore(async (core) => {
          const t = await core.connectors.service.newToken(await cli.cliPrincipal(core), name);
          out(`registration token (shown once, valid until ${t.expiresAt.toISOString()}): ${t.token}`);
          return 0;
        });
      },
    },
    'connectors revoke': {
      summary: 'Revoke a connector: its certificate is refused from now on',
      usage: 'certbridge connectors revoke --name NAME',
      run: async (args, out) => {
        const name = required(cli.parse(args, nameOption), 'name');
        return cli.withCore(async (core) => {
          const c = await core.connectors.service.revoke(await cli.cliPrincipal(core), name);
          out(`${c.id}  ${c.name}  ${c.status}`);
          return 0;
        });
      },
    },
  };
}
