import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { get, post, put, qs } from '../api.ts';
import type { Ca, CaServer, Connection, Template } from '../types.ts';
import { KEY_ALGORITHMS } from '../types.ts';
import { Empty, ErrorBox, Field, Panel, Status, fmtDate, useAction, useLoad } from '../ui.tsx';
import { CA_NAME, CA_NAME_HINT } from './ca-common.ts';

/** ADCS CAs: their servers (priority, health, circuit), templates, and ADCS-signed intermediates. */

export interface ServerRow { connection: string; priority: string; maxRequestsPerSecond: string }

/** Ordered ADCS servers (connection + priority); `withRate` adds the per-server request cap (direct ADCS CAs only). */
export function ServersEditor({ rows, setRows, connections, withRate = true }: { rows: ServerRow[]; setRows: (r: ServerRow[]) => void; connections: Connection[]; withRate?: boolean }) {
  return (
    <div className="servers">
      {rows.map((r, i) => (
        <div key={i} className="server-row">
          <select aria-label="Connection" value={r.connection} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, connection: e.target.value } : x)))}>
            <option value="">Connection…</option>{connections.map((c) => <option key={c.id} value={c.name}>{c.name} ({c.url})</option>)}
          </select>
          <input aria-label="Priority" title="Priority: 1 is asked first" inputMode="numeric" value={r.priority} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, priority: e.target.value } : x)))} />
          {withRate && <input aria-label="Requests per second" placeholder="max req/s" inputMode="numeric" value={r.maxRequestsPerSecond} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, maxRequestsPerSecond: e.target.value } : x)))} />}
          <button type="button" className="link" onClick={() => setRows(rows.filter((_, j) => j !== i))} disabled={rows.length === 1}>Remove</button>
        </div>
      ))}
      <button type="button" className="secondary small" onClick={() => setRows([...rows, { connection: '', priority: String(rows.length + 1), maxRequestsPerSecond: '' }])}>Add server</button>
    </div>
  );
}

export function serversBody(rows: ServerRow[]): { errors: string | undefined; servers: { connection: string; priority: number; maxRequestsPerSecond?: number }[] } {
  const bad = rows.find((r) => !r.connection || !(Number(r.priority) >= 1 && Number(r.priority) <= 100) || (r.maxRequestsPerSecond && !(Number(r.maxRequestsPerSecond) >= 1)));
  return {
    errors: bad ? 'Each server needs a connection, a priority from 1 to 100 and an optional rate of 1 or more.' : undefined,
    servers: rows.map((r) => ({ connection: r.connection, priority: Number(r.priority), ...(r.maxRequestsPerSecond ? { maxRequestsPerSecond: Number(r.maxRequestsPerSecond) } : {}) })),
  };
}

export function CreateAdcsCa({ onDone }: { onDone: (ca: Ca) => void }) {
  const connections = useLoad(() => get<{ items: Connection[] }>('/api/v1/connections?type=adcs'), []);
  const [name, setName] = useState('');
  const [rows, setRows] = useState<ServerRow[]>([{ connection: '', priority: '1', maxRequestsPerSecond: '' }]);
  const [sanAttribute, setSanAttribute] = useState(false);
  const [quickRetries, setQuickRetries] = useState('5');
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  if (connections.data && connections.data.items.length === 0) return <Empty title="No ADCS connection yet."><Link to="/connections">Add a connection</Link> to an ADCS web enrollment server first.</Empty>;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const { errors: serverError, servers } = serversBody(rows);
    const errors: Record<string, string> = {};
    if (!CA_NAME.test(name)) errors['name'] = CA_NAME_HINT;
    if (serverError) errors['servers'] = serverError;
    if (!/^[0-5]$/.test(quickRetries)) errors['quickRetries'] = '0 to 5.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const ca = await action.run(() => post<Ca>('/api/v1/cas/adcs', { name, servers, settings: { sanAttribute, quickRetries: Number(quickRetries) } }));
    if (ca) onDone(ca);
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form">
      <Field label="Name" error={invalid['name']} hint={CA_NAME_HINT}><input name="adcs-name" value={name} onChange={(e) => setName(e.target.value)} /></Field>
      <Field label="Servers (1 = asked first; the others take over when it fails)" error={invalid['servers']}>
        <ServersEditor rows={rows} setRows={setRows} connections={connections.data?.items ?? []} />
      </Field>
      <Field label="Quick re-asks after a request is pended" error={invalid['quickRetries']} hint="0 to 5 (2, 4, 8, 16, 30 s): the answer waits for them; 0 leaves pending requests to the background poll.">
        <input name="adcs-quick-retries" inputMode="numeric" value={quickRetries} onChange={(e) => setQuickRetries(e.target.value)} />
      </Field>
      <label className="check"><input type="checkbox" checked={sanAttribute} onChange={(e) => setSanAttribute(e.target.checked)} /> Send SANs as the <code>SAN:</code> request attribute (needs EDITF_ATTRIBUTESUBJECTALTNAME2 on the CA, a known risk)</label>
      <ErrorBox error={action.error ?? connections.error} />
      <button type="submit" disabled={action.busy}>Create ADCS CA</button>
    </form>
  );
}

export function AdcsServers({ ca, manage }: { ca: Ca; manage: boolean }) {
  const servers = useLoad(() => get<{ items: CaServer[] }>(`/api/v1/cas/${ca.id}/servers`), [ca.id]);
  const connections = useLoad(async () => (manage ? (await get<{ items: Connection[] }>('/api/v1/connections?type=adcs')).items : []), [manage]);
  const [rows, setRows] = useState<ServerRow[]>();
  const [invalid, setInvalid] = useState<string>();
  const action = useAction();
  const save = async () => {
    const { errors, servers: body } = serversBody(rows ?? []);
    setInvalid(errors);
    if (errors) return;
    if (await action.run(() => put(`/api/v1/cas/${ca.id}/servers`, { servers: body }))) { setRows(undefined); servers.reload(); }
  };
  return (
    <Panel title="ADCS servers">
      <ErrorBox error={servers.error} />
      <div className="table-wrap">
        <table className="table">
          <thead><tr><th>Priority</th><th>Connection</th><th>Health</th><th>Circuit</th><th className="hide-phone">Last check</th><th className="hide-phone">Rate cap</th></tr></thead>
          <tbody>{servers.data?.items.map((s) => (
            <tr key={s.connectionId}>
              <td>{s.priority}</td><td>{s.name}<div className="muted">{s.url}</div></td>
              <td>{s.healthy === null ? <span className="muted">not checked yet</span> : <Status value={s.healthy ? 'healthy' : 'unhealthy'} />}{s.lastError ? <div className="muted">{s.lastError}</div> : null}</td>
              <td><Status value={s.circuit} /></td><td className="hide-phone">{fmtDate(s.lastCheckAt)}</td><td className="hide-phone">{s.maxRequestsPerSecond ? `${s.maxRequestsPerSecond}/s` : '—'}</td>
            </tr>
          ))}</tbody>
        </table>
      </div>
      {manage && !rows && <button type="button" className="secondary" onClick={() => setRows((servers.data?.items ?? []).map((s) => ({ connection: s.name, priority: String(s.priority), maxRequestsPerSecond: s.maxRequestsPerSecond ? String(s.maxRequestsPerSecond) : '' })))}>Edit servers</button>}
      {rows && (
        <div className="form">
          <ServersEditor rows={rows} setRows={setRows} connections={connections.data ?? []} />
          {invalid && <div className="field-error">{invalid}</div>}
          <ErrorBox error={action.error} />
          <div className="button-row"><button type="button" onClick={() => void save()} disabled={action.busy}>Save servers</button><button type="button" className="link" onClick={() => setRows(undefined)}>Cancel</button></div>
        </div>
      )}
    </Panel>
  );
}

export function AdcsTemplates({ ca, manage }: { ca: Ca; manage: boolean }) {
  const [refresh, setRefresh] = useState(0);
  const templates = useLoad(() => get<{ items: Template[]; errors?: unknown[]; brokenProfiles?: unknown[] }>(`/api/v1/cas/${ca.id}/templates${qs({ refresh: refresh ? 'true' : undefined })}`), [ca.id, refresh]);
  return (
    <Panel title="Templates">
      <div className="button-row">
        {manage && <button type="button" className="secondary" disabled={templates.loading} onClick={() => setRefresh(refresh + 1)}>{templates.loading && refresh ? 'Asking the servers…' : 'Refresh from ADCS'}</button>}
      </div>
      <ErrorBox error={templates.error} />
      {templates.data?.errors && templates.data.errors.length > 0 && <div className="notice notice-bad">Some servers did not answer: <pre className="pem">{JSON.stringify(templates.data.errors, null, 2)}</pre></div>}
      {templates.data?.brokenProfiles && templates.data.brokenProfiles.length > 0 && <div className="notice notice-bad">Profiles whose template disappeared: {JSON.stringify(templates.data.brokenProfiles)}</div>}
      {templates.data && templates.data.items.length === 0 ? <Empty title="No templates known yet.">{manage ? 'Press “Refresh from ADCS” to ask the servers which templates their accounts may enroll for.' : 'An administrator can refresh them from ADCS.'}</Empty> : (
        <table className="table"><thead><tr><th>Template</th><th>Display name</th><th>Kind</th><th>Servers</th><th className="hide-phone">Refreshed</th></tr></thead>
          <tbody>{templates.data?.items.map((t) => <tr key={t.name}><td className="mono">{t.name}</td><td>{t.displayName}</td><td>{t.kind}</td><td>{t.servers.join(', ')}</td><td className="hide-phone">{fmtDate(t.refreshedAt)}</td></tr>)}</tbody>
        </table>
      )}
    </Panel>
  );
}

/** An internal intermediate whose certificate this ADCS CA issues (a subordinate-CA template). */
export function AdcsSubordinate({ ca }: { ca: Ca }) {
  const navigate = useNavigate();
  const templates = useLoad(() => get<{ items: Template[] }>(`/api/v1/cas/${ca.id}/templates`), [ca.id]);
  const [f, setF] = useState({ name: '', subject: '', keyAlgorithm: 'RSA-2048', template: 'SubCA' });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [pending, setPending] = useState<Ca>();
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!CA_NAME.test(f.name)) errors['name'] = CA_NAME_HINT;
    if (!/^\s*[A-Za-z.0-9]+=/.test(f.subject)) errors['subject'] = 'A distinguished name such as CN=Example Issuing CA, O=Example.';
    if (!f.template) errors['template'] = 'The subordinate-CA template (SubCA on a default ADCS).';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const created = await action.run(() => post<Ca & { pendingAtAdcs: boolean }>(`/api/v1/cas/${ca.id}/subordinates`, { ...f, subject: f.subject.trim() }));
    if (created?.pendingAtAdcs) setPending(created);
    else if (created) navigate(`/cas/${created.id}`);
  };
  return (
    <Panel title="ADCS-signed intermediate CA">
      <p className="muted">Certbridge generates the key, ADCS issues the certificate from a subordinate-CA template; the new CA then issues inside Certbridge, chained to your ADCS root.</p>
      <form onSubmit={(e) => void submit(e)} noValidate className="form">
        <div className="grid-2">
          <Field label="Name" error={invalid['name']} hint={CA_NAME_HINT}><input name="sub-name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} /></Field>
          <Field label="Subject" error={invalid['subject']}><input name="sub-subject" value={f.subject} placeholder="CN=Example Issuing CA, O=Example" onChange={(e) => setF({ ...f, subject: e.target.value })} /></Field>
          <Field label="Key algorithm"><select name="sub-key" value={f.keyAlgorithm} onChange={(e) => setF({ ...f, keyAlgorithm: e.target.value })}>{KEY_ALGORITHMS.map((k) => <option key={k}>{k}</option>)}</select></Field>
          <Field label="ADCS template" error={invalid['template']}>
            <select name="sub-template" value={f.template} onChange={(e) => setF({ ...f, template: e.target.value })}>
              {!templates.data?.items.some((t) => t.name === 'SubCA') && <option value="SubCA">SubCA</option>}
              {templates.data?.items.map((t) => <option key={t.name} value={t.name}>{t.displayName || t.name} ({t.name})</option>)}
            </select>
          </Field>
        </div>
        <ErrorBox error={action.error} />
        {pending && <div className="notice" role="status">Request pending at ADCS: <Link to={`/cas/${pending.id}`}>{pending.name}</Link> stays disabled until a CA manager approves it.</div>}
        <button type="submit" disabled={action.busy}>{action.busy ? 'Asking ADCS…' : 'Create intermediate'}</button>
      </form>
    </Panel>
  );
}

