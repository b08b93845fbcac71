import { parseArgs } from 'node:util';
import type { OrdersTable } from '../db/schema.ts';
import { isUuid } from '../repositories/cas-repository.ts';
import type { CliHelpers } from './connector-commands.ts';

type Output = (line: string) => void;
interface CommandLike { summary: string; usage: string; run(args: string[], out: Output): Promise<number> }

const STATUSES = ['pending', 'issued', 'denied', 'failed', 'cancelled'] as const;

/** The columns SecTrail users read their ADCS requests by, in their order; the disposition is free text, so it comes last. */
const HEADER = ['ID', 'CREATED', 'REQUEST', 'COMMON NAME', 'DOMAIN', 'TEMPLATE', 'STATUS', 'ATTEMPTS', 'NEXT POLL', 'DISPOSITION'];

interface OrderLine {
  id: string; created_at: Date; ca_request_id: string | null; common_name: string | null; adcs_domain: string | null; template: string | null;
  status: OrdersTable['status']; attempts: number; next_poll_at: Date | null; disposition: string | null; hresult: string | null;
}

/** One row of text cells; `-` for what the order does not have (an internal CA has no request id, domain or template). */
export function orderCells(o: OrderLine): string[] {
  const disposition = [o.disposition, o.hresult].filter(Boolean).join(' ');
  return [
    o.id, o.created_at.toISOString(), o.ca_request_id ?? '-', o.common_name ?? '-', o.adcs_domain ?? '-', o.template ?? '-', o.status, String(o.attempts),
    // A next poll only means something while the order waits for the CA.
    o.status === 'pending' && o.next_poll_at ? o.next_poll_at.toISOString() : '-', disposition || '-',
  ];
}

/** Columns padded to their widest cell, two spaces apart (as `column -t` would), the last one unpadded. */
export function renderTable(rows: string[][]): string[] {
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

/**
 * `certbridge orders list|fetch` (issue 4 item 6): the same filters as `GET /api/v1/orders`
 * (status, CA, ADCS server, ADCS domain, template, requester, common name), as the admin user, on
 * the database directly. Names are resolved here so a typo is an error, not an empty list.
 */
export function ordersCommands(cli: CliHelpers): Record<string, CommandLike> {
  return {
    'orders list': {
      summary: 'List orders, newest first, filtered like GET /api/v1/orders (request id, common name, ADCS domain, template, status, disposition, attempts, next poll)',
      usage: 'certbridge orders list [--status pending|issued|denied|failed|cancelled] [--ca ID|NAME] [--server CONNECTION] [--domain NAME] [--template NAME] [--requester USER] [--common-name TEXT] [--limit N]',
      run: async (args, out) => {
        const v = cli.parse(args, {
          status: { type: 'string' }, ca: { type: 'string' }, server: { type: 'string' }, domain: { type: 'string' }, template: { type: 'string' },
          requester: { type: 'string' }, 'common-name': { type: 'string' }, limit: { type: 'string', default: '50' },
        });
        const text = (name: string): string | undefined => (typeof v[name] === 'string' && v[name] !== '' ? String(v[name]) : undefined);
        const status = text('status');
        if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) throw cli.fail(`--status must be one of ${STATUSES.join(', ')}`);
        const limit = Number(v['limit']);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw cli.fail('--limit must be a whole number from 1 to 500');
        return cli.withCore(async (core) => {
          const caName = text('ca'), serverName = text('server'), requesterName = text('requester');
          const ca = caName === undefined ? undefined : await core.repos.cas.find(caName);
          if (caName !== undefined && !ca) throw cli.fail(`no CA named ${caName}`);
          const server = serverName === undefined ? undefined : await core.connections.find(serverName);
          if (serverName !== undefined && !server) throw cli.fail(`no ADCS connection named ${serverName}`);
          // A requester is a user name (people type those) or a user id (as the API takes it).
          const requester = requesterName === undefined ? undefined : (await core.repos.users.findByUsername(requesterName)) ?? (isUuid(requesterName) ? await core.repos.users.findById(requesterName) : undefined);
          if (requesterName !== undefined && !requester) throw cli.fail(`no user named ${requesterName}`);
          const domain = text('domain'), template = text('template'), commonName = text('common-name');
          const rows = await core.repos.orders.list({
            applicationIds: null, limit, ...(status ? { status } : {}), ...(ca ? { caId: ca.id } : {}), ...(server ? { server: server.id } : {}),
            ...(domain ? { domain } : {}), ...(template ? { template } : {}), ...(requester ? { requesterId: requester.id } : {}), ...(commonName ? { commonName } : {}),
          });
          for (const line of renderTable([HEADER, ...rows.map(orderCells)])) out(line);
          return 0;
        });
      },
    },
    'orders fetch': {
      summary: 'Ask the CA now about a pending order',
      usage: 'certbridge orders fetch ORDER_ID',
      run: async (args, out) => {
        const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
        if (positionals.length !== 1) throw cli.fail('give the order id');
        return cli.withCore(async (core) => {
          const step = await core.adcs.pending.fetchNow(await cli.cliPrincipal(core), positionals[0]!);
          const o = step.order;
          out(`${o.id}  ${o.status}${o.certificate_id ? `  certificate ${o.certificate_id}` : ''}${o.next_poll_at && o.status === 'pending' ? `  next poll ${o.next_poll_at.toISOString()}` : ''}${step.status === 'unreachable' ? `  (CA unreachable: ${step.message})` : ''}`);
          return o.status === 'issued' || o.status === 'pending' ? 0 : 1;
        });
      },
    },
  };
}
