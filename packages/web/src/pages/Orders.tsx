import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { del, get, post, qs } from '../api.ts';
import type { Ca, Connection, Order } from '../types.ts';
import { Empty, ErrorBox, Loading, PageHeader, Status, commonName, fmtDate, useAction, useLoad } from '../ui.tsx';
import { useOrderEvents } from './order-events.ts';

/** Polling period while the live event stream is down. */
const REFRESH_MS = 5000;

/** Orders, newest first, updated live from the server's order events (polling while those are down); Fetch asks ADCS now, Cancel gives up. */
export function OrdersPage() {
  const [params, setParams] = useSearchParams();
  const filters = { status: params.get('status') ?? '', ca: params.get('ca') ?? '', template: params.get('template') ?? '', commonName: params.get('commonName') ?? '' };
  const [template, setTemplate] = useState(filters.template);
  const [cn, setCn] = useState(filters.commonName);
  const orders = useLoad(() => get<{ items: Order[] }>(`/api/v1/orders${qs({ ...filters, limit: 200 })}`), [params.toString()]);
  const cas = useLoad(() => get<{ items: Ca[] }>('/api/v1/cas').catch(() => ({ items: [] as Ca[] })), []);
  // Orders name the ADCS server by its connection id; show the connection's name where the caller may read it.
  const connections = useLoad(() => get<{ items: Connection[] }>('/api/v1/connections?type=adcs').catch(() => ({ items: [] as Connection[] })), []);
  const action = useAction();
  const highlight = params.get('id');
  const anyPending = orders.data?.items.some((o) => o.status === 'pending');

  const feed = useOrderEvents(orders.reload);

  useEffect(() => {
    if (!anyPending || feed === 'live') return;
    const timer = setInterval(orders.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [anyPending, feed, orders.reload]);

  const setFilters = (values: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(values)) if (value) next.set(key, value); else next.delete(key);
    setParams(next);
  };
  const setFilter = (key: string, value: string) => setFilters({ [key]: value });
  const caName = (id: string) => cas.data?.items.find((c) => c.id === id)?.name ?? id.slice(0, 8);
  const serverName = (id: string) => connections.data?.items.find((c) => c.id === id)?.name ?? id.slice(0, 8);
  const act = async (fn: () => Promise<unknown>) => { await action.run(fn); orders.reload(); };

  return (
    <>
      <PageHeader title="Orders">
        {feed === 'live'
          ? <span className="muted" data-testid="orders-feed"><span className="live-dot" />Live: changes appear as they happen</span>
          : feed === 'polling' ? <span className="muted" data-testid="orders-feed">{anyPending ? <><span className="spinner" /> Live updates unavailable: pending orders refresh every {REFRESH_MS / 1000} s</> : 'Live updates unavailable: reconnecting'}</span> : null}
      </PageHeader>
      <div className="filters">
        <select aria-label="Status" value={filters.status} onChange={(e) => setFilter('status', e.target.value)}>
          <option value="">Any status</option>
          {['pending', 'issued', 'denied', 'failed', 'cancelled'].map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <select aria-label="CA" value={filters.ca} onChange={(e) => setFilter('ca', e.target.value)}>
          <option value="">All CAs</option>
          {cas.data?.items.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select>
        <form className="search" onSubmit={(e) => { e.preventDefault(); setFilters({ commonName: cn.trim(), template: template.trim() }); }}>
          <input aria-label="Common name" placeholder="Common name contains" value={cn} onChange={(e) => setCn(e.target.value)} />
          <input aria-label="Template" placeholder="ADCS template" value={template} onChange={(e) => setTemplate(e.target.value)} />
          <button type="submit" className="secondary">Filter</button>
        </form>
      </div>
      <ErrorBox error={orders.error ?? action.error} />
      {orders.loading && !orders.data ? <Loading /> : orders.data && orders.data.items.length === 0 ? (
        Object.values(filters).some(Boolean) ? <Empty title="No order matches these filters." /> : <Empty title="No orders yet.">Every request, from the UI, the API or an enrollment protocol, is recorded here. <Link to="/issue">Issue a certificate</Link>.</Empty>
      ) : orders.data && (
        <div className="table-wrap">
          <table className="table" data-testid="orders-table">
            <thead><tr><th>Created</th><th>Request ID</th><th>Common name</th><th className="hide-phone">ADCS domain</th><th className="hide-phone">CA / server</th><th className="hide-phone">Template</th><th>Status</th><th>Disposition</th><th /></tr></thead>
            <tbody>
              {orders.data.items.map((o) => (
                <tr key={o.id} className={o.id === highlight ? 'highlight' : undefined}>
                  <td className="created">{fmtDate(o.createdAt)}</td>
                  <td className="mono">{o.caRequestId ?? '—'}</td>
                  <td className="breakable">{o.certificateId ? <Link to={`/certificates/${o.certificateId}`}>{o.commonName ?? commonName(o.subject)}</Link> : o.commonName ?? commonName(o.subject)}</td>
                  <td className="hide-phone">{o.adcsDomain ?? '—'}</td>
                  <td className="hide-phone">{caName(o.caId)}{o.caServer ? <div className="muted">{serverName(o.caServer)}</div> : null}</td>
                  <td className="hide-phone">{o.template ?? '—'}</td>
                  <td><Status value={o.status} />{o.attempts > 1 ? <div className="muted">{o.attempts} attempts</div> : null}</td>
                  <td className="disposition">{o.disposition ?? (typeof o.error?.['message'] === 'string' ? o.error['message'] : '')}{o.hresult ? <div className="muted mono">{o.hresult}</div> : null}{o.warning ? <div className="muted">{o.warning}</div> : null}</td>
                  <td className="row-actions stack-always">
                    {o.status === 'pending' && <>
                      <button type="button" className="secondary small" disabled={action.busy} onClick={() => void act(() => post(`/api/v1/orders/${o.id}/fetch`))}>Fetch</button>
                      <button type="button" className="danger small" disabled={action.busy} onClick={() => { if (confirm('Cancel this order? It stays in the ADCS pending queue for a CA manager.')) void act(() => del(`/api/v1/orders/${o.id}`)); }}>Delete</button>
                    </>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
