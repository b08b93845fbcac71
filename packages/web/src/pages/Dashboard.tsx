import { Link } from 'react-router-dom';
import { get, qs } from '../api.ts';
import { abilities, useAuth } from '../auth.tsx';
import type { Ca, CaServer, CertificateSummary, Order, Page } from '../types.ts';
import { Empty, ErrorBox, Loading, PageHeader, Status, commonName, daysUntil, fmtDate, fmtDay, useLoad } from '../ui.tsx';
import type { AzureConnection } from './AzureConnections.tsx';
import type { Connector } from './Connectors.tsx';
import type { Sync } from './Syncs.tsx';

const DAY = 86_400_000;
const HORIZON_DAYS = 90;
const BUCKET_DAYS = 7;

/** Every active certificate that expires within the horizon (keyset pages of 500). */
async function expiringCertificates(): Promise<CertificateSummary[]> {
  const before = new Date(Date.now() + HORIZON_DAYS * DAY).toISOString();
  const all: CertificateSummary[] = [];
  let cursor: string | null | undefined;
  for (let page = 0; page < 20; page++) {
    const answer = await get<Page<CertificateSummary>>(`/api/v1/certificates${qs({ status: 'active', expiringBefore: before, limit: 500, cursor })}`);
    all.push(...answer.items);
    cursor = answer.nextCursor;
    if (!cursor) break;
  }
  return all.filter((c) => new Date(c.notAfter).getTime() > Date.now());
}

async function adcsServersDown(cas: Ca[]): Promise<{ ca: Ca; server: CaServer }[]> {
  const adcs = cas.filter((c) => c.type === 'adcs');
  const lists = await Promise.all(adcs.map(async (ca) => (await get<{ items: CaServer[] }>(`/api/v1/cas/${ca.id}/servers`)).items.map((server) => ({ ca, server }))));
  return lists.flat().filter(({ server }) => server.healthy === false || server.circuit === 'open');
}

/** Syncs whose last run failed or that hold a certificate in state failed. */
async function failedSyncs(): Promise<{ sync: Sync; failed: number }[]> {
  const { items } = await get<{ items: Sync[] }>('/api/v1/syncs');
  const counted = await Promise.all(items.filter((s) => s.enabled).map(async (sync) => {
    const detail = await get<{ items: { state: string }[] }>(`/api/v1/syncs/${sync.id}/certificates`);
    return { sync, failed: detail.items.filter((i) => i.state === 'failed').length };
  }));
  return counted.filter((c) => c.failed > 0 || c.sync.lastRunError);
}

/** Client-secret connections whose last rotation failed (the error stays until one succeeds). */
async function failedRotations(): Promise<AzureConnection[]> {
  const { items } = await get<{ items: AzureConnection[] }>('/api/v1/connections?type=azure-client-secrets');
  return items.filter((c) => c.rotation.enabled && c.lastError);
}

/** Weekly bars of expiring certificates over the next 90 days. */
export function ExpiryChart({ certificates }: { certificates: CertificateSummary[] }) {
  const buckets = Array.from({ length: Math.ceil(HORIZON_DAYS / BUCKET_DAYS) }, () => 0);
  for (const c of certificates) {
    const days = daysUntil(c.notAfter);
    if (days >= 0 && days < HORIZON_DAYS) buckets[Math.floor(days / BUCKET_DAYS)]! += 1;
  }
  const max = Math.max(1, ...buckets);
  const width = 640, height = 200, left = 32, bottom = 28, top = 12;
  const barWidth = (width - left) / buckets.length;
  const ticks = [0, Math.ceil(max / 2), max].filter((v, i, a) => a.indexOf(v) === i);
  return (
    <svg className="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Certificates expiring per week over the next 90 days">
      {ticks.map((t) => {
        const y = height - bottom - ((height - bottom - top) * t) / max;
        return <g key={t}><line x1={left} x2={width} y1={y} y2={y} className="grid" /><text x={left - 6} y={y + 4} textAnchor="end">{t}</text></g>;
      })}
      {buckets.map((count, i) => {
        const h = ((height - bottom - top) * count) / max;
        const x = left + i * barWidth + 4;
        const tone = i * BUCKET_DAYS < 7 ? 'bad' : i * BUCKET_DAYS < 30 ? 'warn' : 'ok';
        return (
          <g key={i}>
            <rect x={x} y={height - bottom - h} width={barWidth - 8} height={Math.max(h, count ? 2 : 0)} className={`bar bar-${tone}`}><title>{`${count} expiring in days ${i * BUCKET_DAYS}–${i * BUCKET_DAYS + BUCKET_DAYS - 1}`}</title></rect>
            {count > 0 && <text x={x + (barWidth - 8) / 2} y={height - bottom - h - 3} textAnchor="middle" className="bar-label">{count}</text>}
            {i % 2 === 0 && <text x={x + (barWidth - 8) / 2} y={height - 8} textAnchor="middle">{`${i * BUCKET_DAYS}d`}</text>}
          </g>
        );
      })}
    </svg>
  );
}

export function DashboardPage() {
  const { me } = useAuth();
  const can = abilities(me?.role);
  const certs = useLoad(expiringCertificates, []);
  const pending = useLoad(() => get<{ items: Order[] }>('/api/v1/orders?status=pending&limit=100'), []);
  const failed = useLoad(() => get<{ items: Order[] }>('/api/v1/orders?status=failed&limit=20'), []);
  const down = useLoad(async () => (can.readAll ? adcsServersDown((await get<{ items: Ca[] }>('/api/v1/cas')).items) : []), [can.readAll]);
  const syncs = useLoad(async () => (can.readAll ? failedSyncs() : []), [can.readAll]);
  const rotations = useLoad(async () => (can.readAll ? failedRotations() : []), [can.readAll]);
  const offline = useLoad(async () => (can.readAll ? (await get<{ items: Connector[] }>('/api/v1/connectors')).items.filter((c) => c.status === 'active' && !c.online) : []), [can.readAll]);

  const within = (days: number) => (certs.data ?? []).filter((c) => daysUntil(c.notAfter) < days).length;
  const soonest = [...(certs.data ?? [])].sort((a, b) => a.notAfter.localeCompare(b.notAfter)).slice(0, 8);

  return (
    <>
      <PageHeader title="Dashboard"><Link className="button" to="/issue">Issue certificate</Link></PageHeader>
      <div className="cards">
        {[7, 30, 90].map((d) => (
          <Link key={d} to={`/certificates?status=active&expiringWithin=${d}`} className={`card stat${d === 7 && within(7) ? ' stat-bad' : d === 30 && within(30) ? ' stat-warn' : ''}`}>
            <span className="stat-value" data-testid={`expiring-${d}`}>{certs.data ? within(d) : '…'}</span>
            <span className="stat-label">expiring in {d} days</span>
          </Link>
        ))}
        <Link to="/orders?status=pending" className={`card stat${pending.data?.items.length ? ' stat-warn' : ''}`}>
          <span className="stat-value" data-testid="pending-orders">{pending.data ? pending.data.items.length : '…'}</span>
          <span className="stat-label">pending orders</span>
        </Link>
        <Link to="/cas" className={`card stat${down.data?.length ? ' stat-bad' : ''}`}>
          <span className="stat-value">{down.data ? down.data.length : '…'}</span>
          <span className="stat-label">ADCS servers down</span>
        </Link>
        {can.readAll && <>
          <Link to="/syncs" className={`card stat${syncs.data?.length ? ' stat-bad' : ''}`}>
            <span className="stat-value" data-testid="failed-syncs">{syncs.data ? syncs.data.length : '…'}</span>
            <span className="stat-label">failed syncs</span>
          </Link>
          <Link to="/connections/azure" className={`card stat${rotations.data?.length ? ' stat-bad' : ''}`}>
            <span className="stat-value" data-testid="failed-rotations">{rotations.data ? rotations.data.length : '…'}</span>
            <span className="stat-label">failed rotations</span>
          </Link>
          <Link to="/connectors" className={`card stat${offline.data?.length ? ' stat-bad' : ''}`}>
            <span className="stat-value" data-testid="connectors-offline">{offline.data ? offline.data.length : '…'}</span>
            <span className="stat-label">connectors offline</span>
          </Link>
        </>}
      </div>

      <section className="panel">
        <h2>Expiring over the next 90 days</h2>
        <ErrorBox error={certs.error} />
        {certs.loading && !certs.data ? <Loading /> : certs.data && certs.data.length === 0
          ? <Empty title="Nothing expires in the next 90 days.">Issued certificates appear here as their end date approaches.</Empty>
          : certs.data && <>
            <ExpiryChart certificates={certs.data} />
            <table className="table">
              <thead><tr><th>Common name</th><th>Expires</th><th>In</th></tr></thead>
              <tbody>{soonest.map((c) => (
                <tr key={c.id}><td><Link to={`/certificates/${c.id}`}>{commonName(c.subject)}</Link></td><td>{fmtDay(c.notAfter)}</td><td>{daysUntil(c.notAfter)} days</td></tr>
              ))}</tbody>
            </table>
          </>}
      </section>

      <div className="two-columns">
        <section className="panel">
          <h2>Pending orders</h2>
          <ErrorBox error={pending.error} />
          {pending.data && pending.data.items.length === 0 ? <Empty title="No order is waiting for a CA.">Orders that need a CA manager's approval in ADCS show up here.</Empty> : (
            <ul className="list">{pending.data?.items.slice(0, 8).map((o) => (
              <li key={o.id}><Status value={o.status} /> {commonName(o.subject)} <span className="muted">· {o.template ?? o.protocol} · {fmtDate(o.createdAt)}</span></li>
            ))}</ul>
          )}
        </section>
        <section className="panel">
          <h2>Recent failures</h2>
          <ErrorBox error={failed.error ?? down.error ?? syncs.error ?? rotations.error ?? offline.error} />
          {syncs.data?.map(({ sync, failed: n }) => (
            <div key={sync.id} className="notice notice-bad">Key Vault sync <Link to={`/syncs/${sync.id}`}><strong>{sync.name}</strong></Link>: {n ? `${n} certificate${n === 1 ? '' : 's'} failed` : ''}{n && sync.lastRunError ? '; ' : ''}{sync.lastRunError ?? ''}</div>
          ))}
          {rotations.data?.map((c) => (
            <div key={c.id} className="notice notice-bad">Secret rotation of <strong>{c.name}</strong> failed: {c.lastError}</div>
          ))}
          {offline.data?.map((c) => (
            <div key={c.id} className="notice notice-bad">Connector <strong>{c.name}</strong>{c.site ? ` (${c.site})` : ''} is offline; last heartbeat {fmtDate(c.lastHeartbeatAt)}</div>
          ))}
          {down.data?.map(({ ca, server }) => (
            <div key={ca.id + server.connectionId} className="notice notice-bad">ADCS server <strong>{server.name}</strong> of {ca.name} is {server.circuit === 'open' ? 'cut off (circuit open)' : 'failing its health check'}{server.lastError ? `: ${server.lastError}` : ''}</div>
          ))}
          {failed.data && failed.data.items.length === 0 && !down.data?.length && !syncs.data?.length && !rotations.data?.length && !offline.data?.length ? <Empty title="No failed orders or servers." /> : (
            <ul className="list">{failed.data?.items.slice(0, 8).map((o) => (
              <li key={o.id}><Status value={o.status} /> {commonName(o.subject)} <span className="muted">· {o.disposition ?? String(o.error?.['message'] ?? '')}</span></li>
            ))}</ul>
          )}
        </section>
      </div>
    </>
  );
}
