import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { get, post, put } from '../api.ts';
import type { Ca, CaServer, Connection } from '../types.ts';
import { Empty, ErrorBox, Field, Loading, Panel, Status, useAction, useLoad } from '../ui.tsx';
import { CA_NAME, CA_NAME_HINT } from './ca-common.ts';
import { ServersEditor, serversBody, type ServerRow } from './CasAdcs.tsx';
import type { Connector } from './Connectors.tsx';

/**
 * ADCS CAs reached through on-prem connectors (`POST /api/v1/cas/connector`, `PUT
 * /api/v1/cas/{id}/connectors`): the ADCS servers sit behind a firewall, a pool of connectors
 * there runs each request; a job goes to the online member with the fewest open jobs.
 */
const MAX_POOL = 10;
const CERTUTIL_CA_NAME = /^[^\\"]{1,200}$/;

/** The pool's problems, or undefined: at least one member, each chosen once, at most ten. */
function poolError(pool: string[]): string | undefined {
  if (pool.length === 0 || pool.some((id) => !id)) return 'Choose a connector in every row (at least one).';
  if (new Set(pool).size !== pool.length) return 'Each connector once.';
  if (pool.length > MAX_POOL) return `At most ${MAX_POOL} connectors.`;
  return undefined;
}

const connectorLabel = (c: Connector) => `${c.name} (${c.online ? 'online' : 'offline'}${c.site ? `, ${c.site}` : ''})`;

function PoolEditor({ pool, setPool, connectors }: { pool: string[]; setPool: (p: string[]) => void; connectors: Connector[] }) {
  return (
    <div className="servers" data-testid="pool-editor">
      {pool.map((id, i) => (
        <div key={i} className="server-row">
          <select aria-label={`Connector ${i + 1}`} value={id} onChange={(e) => setPool(pool.map((x, j) => (j === i ? e.target.value : x)))}>
            <option value="">Connector…</option>{connectors.map((c) => <option key={c.id} value={c.id}>{connectorLabel(c)}</option>)}
          </select>
          <button type="button" className="link" onClick={() => setPool(pool.filter((_, j) => j !== i))} disabled={pool.length === 1}>Remove</button>
        </div>
      ))}
      <button type="button" className="secondary small" disabled={pool.length >= MAX_POOL} onClick={() => setPool([...pool, ''])}>Add connector</button>
    </div>
  );
}

/** The create form; needs a connector and an ADCS connection first (the empty states say where). */
export function CreateConnectorCa({ onDone }: { onDone: (id: string) => void }) {
  const connectors = useLoad(() => get<{ items: Connector[] }>('/api/v1/connectors'), []);
  const connections = useLoad(() => get<{ items: Connection[] }>('/api/v1/connections?type=adcs'), []);
  const [f, setF] = useState({ name: '', jobTimeoutSeconds: '120', caName: '', sanAttribute: false });
  const [pool, setPool] = useState<string[]>(['']);
  const [rows, setRows] = useState<ServerRow[]>([{ connection: '', priority: '1', maxRequestsPerSecond: '' }]);
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  if (connectors.data?.items.length === 0) return <Empty title="No connector yet.">Create one under <Link to="/connectors">Connectors</Link> and register the agent next to your ADCS servers; it may be offline while you set up the CA.</Empty>;
  if (connections.data?.items.length === 0) return <Empty title="No ADCS connection yet.">Add the ADCS web enrollment servers the connector reaches under <Link to="/connections">ADCS connections</Link>.</Empty>;
  if (!connectors.data || !connections.data) return connectors.error || connections.error ? <ErrorBox error={connectors.error ?? connections.error} /> : <Loading />;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const { errors: serverError, servers } = serversBody(rows);
    const errors: Record<string, string> = {};
    if (!CA_NAME.test(f.name)) errors['name'] = CA_NAME_HINT;
    const bad = poolError(pool);
    if (bad) errors['pool'] = bad;
    if (serverError) errors['servers'] = 'Each server needs a connection and a priority from 1 to 100.';
    if (!(/^\d+$/.test(f.jobTimeoutSeconds) && Number(f.jobTimeoutSeconds) >= 1 && Number(f.jobTimeoutSeconds) <= 86_400)) errors['jobTimeoutSeconds'] = '1 to 86400 seconds.';
    if (f.caName && !CERTUTIL_CA_NAME.test(f.caName)) errors['caName'] = 'Without \\ or "; up to 200 characters.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const created = await action.run(() => post<{ id: string }>('/api/v1/cas/connector', {
      name: f.name, connector: pool[0], ...(pool.length > 1 ? { pool: pool.slice(1) } : {}),
      servers: servers.map((s) => ({ connection: s.connection, priority: s.priority })),
      jobTimeoutSeconds: Number(f.jobTimeoutSeconds), sanAttribute: f.sanAttribute, ...(f.caName.trim() ? { caName: f.caName.trim() } : {}),
    }));
    if (created) onDone(created.id);
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form">
      <Field label="Name" error={invalid['name']} hint={CA_NAME_HINT}><input name="conn-ca-name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} /></Field>
      <Field label="Connectors (a pool: each request goes to the online member with the fewest open jobs)" error={invalid['pool']}>
        <PoolEditor pool={pool} setPool={setPool} connectors={connectors.data.items} />
      </Field>
      <Field label="ADCS servers the connectors reach (1 = asked first)" error={invalid['servers']}>
        <ServersEditor rows={rows} setRows={setRows} connections={connections.data.items} withRate={false} />
      </Field>
      <div className="grid-2">
        <Field label="Job timeout (seconds)" error={invalid['jobTimeoutSeconds']} hint="How long a request waits for the connector; then it stays pending and completes in the background.">
          <input name="conn-ca-timeout" inputMode="numeric" value={f.jobTimeoutSeconds} onChange={(e) => setF({ ...f, jobTimeoutSeconds: e.target.value })} />
        </Field>
        <Field label="CA name at ADCS (optional)" error={invalid['caName']} hint="certutil's name for revocation; empty uses the issuer's common name.">
          <input name="conn-ca-caname" value={f.caName} onChange={(e) => setF({ ...f, caName: e.target.value })} />
        </Field>
      </div>
      <label className="check"><input type="checkbox" checked={f.sanAttribute} onChange={(e) => setF({ ...f, sanAttribute: e.target.checked })} /> Send SANs as the <code>SAN:</code> request attribute (needs EDITF_ATTRIBUTESUBJECTALTNAME2 on the CA, a known risk)</label>
      <ErrorBox error={action.error} />
      <button type="submit" disabled={action.busy}>{action.busy ? 'Creating…' : 'Create connector CA'}</button>
    </form>
  );
}

/** The pool of a connector CA with its members' state; managers edit it (first member first). */
export function ConnectorPool({ ca, manage, onSaved }: { ca: Ca; manage: boolean; onSaved: () => void }) {
  const connectors = useLoad(() => get<{ items: Connector[] }>('/api/v1/connectors'), []);
  const [pool, setPool] = useState<string[]>();
  const [invalid, setInvalid] = useState<string>();
  const action = useAction();
  const members = ca.connector?.connectors ?? [];
  const byId = (id: string) => connectors.data?.items.find((c) => c.id === id);
  const save = async () => {
    const bad = poolError(pool ?? []);
    setInvalid(bad);
    if (bad) return;
    if (await action.run(() => put(`/api/v1/cas/${ca.id}/connectors`, { connectors: pool }))) { setPool(undefined); onSaved(); }
  };
  return (
    <Panel title="Connector pool">
      <ErrorBox error={connectors.error} />
      <div className="table-wrap">
        <table className="table" data-testid="connector-pool">
          <thead><tr><th>#</th><th>Connector</th><th>Status</th><th className="hide-phone">Site</th><th className="hide-phone">Jobs done / failed</th></tr></thead>
          <tbody>{members.map((id, i) => {
            const c = byId(id);
            return (
              <tr key={id}>
                <td>{i + 1}</td><td>{c?.name ?? <span className="mono">{id.slice(0, 8)}</span>}</td>
                <td>{c ? <Status value={c.online ? 'online' : 'offline'} /> : <span className="muted">unknown</span>}</td>
                <td className="hide-phone">{c?.site || '—'}</td><td className="hide-phone">{c ? `${c.jobsDone} / ${c.jobsFailed}` : '—'}</td>
              </tr>
            );
          })}</tbody>
        </table>
      </div>
      <dl className="facts">
        <dt>Job timeout</dt><dd>{ca.connector?.jobTimeoutSeconds ?? '—'} s</dd>
        <dt>SANs</dt><dd>{ca.connector?.sanAttribute ? 'as the SAN: request attribute' : 'in the CSR'}</dd>
        <dt>CA name at ADCS</dt><dd>{ca.connector?.caName ?? 'the issuer common name'}</dd>
      </dl>
      {manage && !pool && <button type="button" className="secondary" onClick={() => setPool([...members])}>Edit pool</button>}
      {pool && (
        <div className="form">
          <PoolEditor pool={pool} setPool={setPool} connectors={connectors.data?.items ?? []} />
          {invalid && <div className="field-error">{invalid}</div>}
          <ErrorBox error={action.error} />
          <div className="button-row"><button type="button" onClick={() => void save()} disabled={action.busy}>Save pool</button><button type="button" className="link" onClick={() => { setPool(undefined); setInvalid(undefined); action.setError(undefined); }}>Cancel</button></div>
        </div>
      )}
    </Panel>
  );
}

/** The ADCS servers behind the connectors, read-only: only the connectors reach them. */
export function ConnectorServers({ ca }: { ca: Ca }) {
  const servers = useLoad(() => get<{ items: CaServer[] }>(`/api/v1/cas/${ca.id}/servers`), [ca.id]);
  return (
    <Panel title="ADCS servers (reached by the connectors)">
      <ErrorBox error={servers.error} />
      <table className="table"><thead><tr><th>Priority</th><th>Connection</th><th className="hide-phone">URL</th></tr></thead>
        <tbody>{servers.data?.items.map((s) => <tr key={s.connectionId}><td>{s.priority}</td><td>{s.name}</td><td className="hide-phone break">{s.url}</td></tr>)}</tbody>
      </table>
    </Panel>
  );
}
