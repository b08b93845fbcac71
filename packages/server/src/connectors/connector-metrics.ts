import { Gauge, Histogram, type Registry } from 'prom-client';
import type { ConnectorJobs } from './connector-jobs.ts';
import type { ConnectorsService } from './connectors-service.ts';
import type { ConnectorRow } from './connectors-tables.ts';

type Labels = Record<string, string>;

/**
 * Connector figures on `/metrics` (issue 7): online connectors, per-connector status, heartbeat,
 * certificate expiry and finished jobs (read from the database at scrape time, so every instance
 * reports the same fleet), the queue by state, and the latency of jobs this instance saw answered
 * (from queueing to answer, so a wait for an offline connector shows in it).
 */
export function registerConnectorMetrics(registry: Registry, deps: { service: ConnectorsService; jobs: ConnectorJobs }): void {
  const { service, jobs } = deps;
  // prom-client collects all gauges of a scrape concurrently: they share one read of the table.
  let snapshot: Promise<ConnectorRow[]> | undefined;
  const rows = (): Promise<ConnectorRow[]> => (snapshot ??= service.all().finally(() => setImmediate(() => (snapshot = undefined))));

  const fromRows = (name: string, help: string, labelNames: string[], values: (c: ConnectorRow) => [Labels, number][]) => new Gauge({
    name, help, labelNames, registers: [registry],
    async collect() {
      const all = await rows();
      this.reset();
      for (const c of all) for (const [labels, value] of values(c)) this.set(labels, value);
    },
  });
  const isUp = (c: ConnectorRow) => c.status === 'active' && service.isOnline(c);

  new Gauge({
    name: 'certbridge_connectors_online', help: 'Active connectors with a heartbeat in the online window', registers: [registry],
    async collect() {
      this.set((await rows()).filter(isUp).length);
    },
  });
  fromRows('certbridge_connector_up', 'Per connector: 1 when online, 0 otherwise', ['connector', 'site', 'status', 'version'],
    (c) => [[{ connector: c.name, site: c.site, status: c.status, version: c.version ?? '' }, isUp(c) ? 1 : 0]]);
  fromRows('certbridge_connector_last_heartbeat_timestamp_seconds', 'Unix time of the last heartbeat', ['connector'],
    (c) => (c.last_heartbeat_at ? [[{ connector: c.name }, c.last_heartbeat_at.getTime() / 1000]] : []));
  fromRows('certbridge_connector_certificate_expiry_timestamp_seconds', 'Unix time the connector client certificate expires', ['connector'],
    (c) => (c.cert_not_after ? [[{ connector: c.name }, c.cert_not_after.getTime() / 1000]] : []));
  fromRows('certbridge_connector_jobs_finished', 'Jobs a connector answered, by outcome (since it was created)', ['connector', 'outcome'],
    (c) => [[{ connector: c.name, outcome: 'done' }, c.jobs_done], [{ connector: c.name, outcome: 'failed' }, c.jobs_failed]]);
  new Gauge({
    name: 'certbridge_connector_jobs', help: 'Connector jobs in the queue table by state', labelNames: ['state'], registers: [registry],
    async collect() {
      const counts = await jobs.countByStatus();
      for (const state of ['queued', 'sent', 'done', 'failed']) this.set({ state }, counts[state] ?? 0);
    },
  });
  const latency = new Histogram({
    name: 'certbridge_connector_job_duration_seconds', help: 'From queueing a connector job to its answer', labelNames: ['kind', 'outcome'], registers: [registry],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120, 600, 3600],
  });
  jobs.onFinished((row, ms) => latency.observe({ kind: row.kind, outcome: row.status }, ms / 1000));
}
