import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { get, qs } from '../api.ts';
import type { Application, Ca, CertificateSummary, Page } from '../types.ts';
import { Empty, ErrorBox, Loading, PageHeader, Status, commonName, daysUntil, fmtDay, sanText, useLoad } from '../ui.tsx';

const PAGE_SIZE = 25;

/** Inventory: filters live in the URL; pages follow `nextCursor` (keyset), with a stack to go back. */
export function CertificatesPage() {
  const [params, setParams] = useSearchParams();
  const [cursors, setCursors] = useState<string[]>([]);
  const filters = {
    status: params.get('status') ?? '', application: params.get('application') ?? '', ca: params.get('ca') ?? '',
    q: params.get('q') ?? '', expiringWithin: params.get('expiringWithin') ?? '',
  };
  const [text, setText] = useState(filters.q);
  const cursor = cursors.at(-1);
  const apps = useLoad(() => get<{ items: Application[] }>('/api/v1/applications'), []);
  const cas = useLoad(() => get<{ items: Ca[] }>('/api/v1/cas').catch(() => ({ items: [] as Ca[] })), []);
  const page = useLoad(() => {
    const expiringBefore = filters.expiringWithin ? new Date(Date.now() + Number(filters.expiringWithin) * 86_400_000).toISOString() : undefined;
    const serial = /^[0-9a-f:]{8,}$/i.test(filters.q) && !filters.q.includes('.') ? filters.q : undefined;
    return get<Page<CertificateSummary>>(`/api/v1/certificates${qs({
      status: filters.status, application: filters.application, ca: filters.ca, expiringBefore,
      ...(serial ? { serial } : { q: filters.q }), limit: PAGE_SIZE, cursor,
    })}`);
  }, [params.toString(), cursor]);

  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value); else next.delete(key);
    setCursors([]);
    setParams(next);
  };
  const search = (e: FormEvent) => { e.preventDefault(); setFilter('q', text.trim()); };
  const filtered = Object.values(filters).some(Boolean);

  return (
    <>
      <PageHeader title="Certificates"><Link className="button" to="/issue">Issue certificate</Link></PageHeader>
      <div className="filters">
        <form onSubmit={search} className="search">
          <input type="search" name="q" placeholder="Name, SAN or serial" value={text} onChange={(e) => setText(e.target.value)} aria-label="Search" />
          <button type="submit" className="secondary">Search</button>
        </form>
        <select aria-label="Status" value={filters.status} onChange={(e) => setFilter('status', e.target.value)}>
          <option value="">Any status</option><option value="active">Active</option><option value="revoked">Revoked</option><option value="expired">Expired</option>
        </select>
        <select aria-label="Expiring" value={filters.expiringWithin} onChange={(e) => setFilter('expiringWithin', e.target.value)}>
          <option value="">Any expiry</option><option value="7">Expiring in 7 days</option><option value="30">Expiring in 30 days</option><option value="90">Expiring in 90 days</option>
        </select>
        <select aria-label="Application" value={filters.application} onChange={(e) => setFilter('application', e.target.value)}>
          <option value="">All applications</option>
          {apps.data?.items.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
        </select>
        {cas.data && cas.data.items.length > 0 && (
          <select aria-label="CA" value={filters.ca} onChange={(e) => setFilter('ca', e.target.value)}>
            <option value="">All CAs</option>
            {cas.data.items.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select>
        )}
        {filtered && <button type="button" className="link" onClick={() => { setText(''); setCursors([]); setParams(new URLSearchParams()); }}>Clear filters</button>}
      </div>
      <ErrorBox error={page.error} />
      {page.loading && !page.data ? <Loading /> : page.data && page.data.items.length === 0 ? (
        filtered ? <Empty title="No certificate matches these filters.">Clear the filters or search for another name.</Empty>
          : <Empty title="No certificates yet."><Link to="/issue">Issue the first one</Link> from an application, or send a CSR to the API.</Empty>
      ) : page.data && (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="certificates-table">
              <thead><tr><th>Common name</th><th className="hide-phone">SANs</th><th>Status</th><th>Expires</th><th className="hide-phone">Serial</th><th className="hide-phone">Key</th></tr></thead>
              <tbody>
                {page.data.items.map((c) => (
                  <tr key={c.id}>
                    <td><Link to={`/certificates/${c.id}`}>{commonName(c.subject)}</Link></td>
                    <td className="sans hide-phone">{c.sans.slice(0, 2).map(sanText).join(', ')}{c.sans.length > 2 ? ` +${c.sans.length - 2}` : ''}</td>
                    <td><Status value={c.status} /></td>
                    <td>{fmtDay(c.notAfter)}{c.status === 'active' && daysUntil(c.notAfter) < 30 ? <span className="muted"> ({daysUntil(c.notAfter)} d)</span> : null}</td>
                    <td className="hide-phone mono">{c.serial.slice(0, 16)}…</td>
                    <td className="hide-phone">{c.keyAlgorithm}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="pager">
            <button type="button" className="secondary" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>Previous</button>
            <span className="muted">Page {cursors.length + 1}</span>
            <button type="button" className="secondary" disabled={!page.data.nextCursor} onClick={() => setCursors([...cursors, page.data!.nextCursor!])}>Next</button>
          </div>
        </>
      )}
    </>
  );
}
