import type { ConnectorJobs } from './connector-jobs.ts';
import type { ConnectorsService } from './connectors-service.ts';
import type { ConnectorRow } from './connectors-tables.ts';

/**
 * The connectors of a connector CA (issue 7 item 4): the first is the CA's `connector`, the
 * others its `pool`. A job goes to the online member with the fewest open (queued or sent) jobs,
 * ties to the earlier member; with none online it waits for the first active one.
 */
export function createConnectorPool(deps: { service: ConnectorsService; jobs: ConnectorJobs }) {
  async function members(ids: string[]): Promise<ConnectorRow[]> {
    const rows: ConnectorRow[] = [];
    for (const id of ids) {
      const row = await deps.service.find(id);
      if (row) rows.push(row);
    }
    return rows;
  }

  return {
    /**
     * The member to send a job to. `active` are the usable members (status active) in pool
     * order; `chosen` is the online one to use, or the first active one when none is online.
     */
    async choose(ids: string[]): Promise<{ rows: ConnectorRow[]; active: ConnectorRow[]; chosen: ConnectorRow | undefined; online: boolean }> {
      const rows = await members(ids);
      const active = rows.filter((r) => r.status === 'active');
      const online = active.filter((r) => deps.service.isOnline(r));
      if (online.length === 0) return { rows, active, chosen: active[0], online: false };
      // A one-connector CA (the common case) costs no count query.
      if (online.length === 1) return { rows, active, chosen: online[0], online: true };
      const open = await deps.jobs.openCounts(online.map((r) => r.id));
      const chosen = online.reduce((best, r) => ((open[r.id] ?? 0) < (open[best.id] ?? 0) ? r : best));
      return { rows, active, chosen, online: true };
    },
  };
}

export type ConnectorPool = ReturnType<typeof createConnectorPool>;
