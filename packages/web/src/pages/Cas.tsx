import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { get, patch, post, put, qs } from '../api.ts';
import { abilities, useAuth } from '../auth.tsx';
import type { Ca, CaServer, Connection, Template } from '../types.ts';
import { KEY_ALGORITHMS } from '../types.ts';
import { parseCertificate } from '../x509.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader, Panel, Status, commonName, fmtDate, fmtDay, useAction, useLoad } from '../ui.tsx';

/** Root or intermediate: an internal CA without a parent here may still be signed elsewhere (ADCS, imported). */
function caKind(c: Ca): string {
  if (c.type === 'adcs') return 'ADCS';
  if (c.parentId) return 'Intermediate';
  try {
    const parsed = c.certificate ? parseCertificate(c.certificate) : null;
    return parsed && parsed.subject !== parsed.issuer ? 'Intermediate' : 'Root';
  } catch {
    return 'Root';
  }
}

const CA_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;
const CA_NAME_HINT = 'Letters, digits, space, . _ -; up to 100.';

function CreateInternalCa({ cas, onDone }: { cas: Ca[]; onDone: (ca: Ca) => void }) {
  const parents = cas.filter((c) => c.type === 'internal' && c.status === 'active');
  const [f, setF] = useState({ kind: 'intermediate', name: '', subject: '', parent: parents[0]?.id ?? '', keyAlgorithm: 'EC-P384', validityDays: '3650', pathLength: '' });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!CA_NAME.test(f.name)) errors['name'] = CA_NAME_HINT;
    if (!/^\s*[A-Za-z.0-9]+=/.test(f.subject)) errors['subject'] = 'A distinguished name such as CN=Example Issuing CA, O=Example.';
    if (f.kind === 'intermediate' && !f.parent) errors['parent'] = 'Choose the CA that signs it.';
    if (!(Number(f.validityDays) >= 1 && Number.isInteger(Number(f.validityDays)))) errors['validityDays'] = 'Whole days, 1 or more.';
    if (f.pathLength && !/^\d+$/.test(f.pathLength)) errors['pathLength'] = '0 to 10, or empty.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const ca = await action.run(() => post<Ca>('/api/v1/cas', {
      name: f.name, kind: f.kind, subject: f.subject.trim(), keyAlgorithm: f.keyAlgorithm, validityDays: Number(f.validityDays),
      ...(f.kind === 'intermediate' ? { parent: f.parent } : {}), ...(f.pathLength ? { pathLength: Number(f.pathLength) } : {}),
    }));
    if (ca) onDone(ca);
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form">
      <fieldset className="segmented"><legend>Kind</legend>
        <label><input type="radio" name="kind" checked={f.kind === 'root'} onChange={() => setF({ ...f, kind: 'root' })} /> Root (self-signed)</label>
        <label><input type="radio" name="kind" checked={f.kind === 'intermediate'} onChange={() => setF({ ...f, kind: 'intermediate' })} /> Intermediate</label>
      </fieldset>
      <div className="grid-2">
        <Field label="Name" error={invalid['name']} hint={CA_NAME_HINT}><input name="ca-name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} /></Field>
        <Field label="Subject" error={invalid['subject']}><input name="ca-subject" value={f.subject} placeholder="CN=Example Issuing CA, O=Example" onChange={(e) => setF({ ...f, subject: e.target.value })} /></Field>
        {f.kind === 'intermediate' && (
          <Field label="Signed by" error={invalid['parent']}><select name="ca-parent" value={f.parent} onChange={(e) => setF({ ...f, parent: e.target.value })}>
            <option value="">Choose…</option>{parents.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
          </select></Field>
        )}
        <Field label="Key algorithm"><select name="ca-key" value={f.keyAlgorithm} onChange={(e) => setF({ ...f, keyAlgorithm: e.target.value })}>{KEY_ALGORITHMS.map((k) => <option key={k}>{k}</option>)}</select></Field>
        <Field label="Validity (days)" error={invalid['validityDays']}><input name="ca-validity" inputMode="numeric" value={f.validityDays} onChange={(e) => setF({ ...f, validityDays: e.target.value })} /></Field>
        <Field label="Path length" error={invalid['pathLength']} hint="How many CAs may sit below it; empty for no limit."><input name="ca-pathlen" inputMode="numeric" value={f.pathLength} onChange={(e) => setF({ ...f, pathLength: e.target.value })} /></Field>
      </div>
      <ErrorBox error={action.error} />
      <button type="submit" disabled={action.busy}>{action.busy ? 'Creating…' : 'Create CA'}</button>
    </form>
  );
}

function ImportCa({ onDone }: { onDone: (ca: Ca) => void }) {
  const [f, setF] = useState({ name: '', certificate: '', chain: '', privateKey: '' });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!CA_NAME.test(f.name)) errors['name'] = CA_NAME_HINT;
    if (!f.certificate.includes('-----BEGIN CERTIFICATE-----')) errors['certificate'] = 'Paste the CA certificate as PEM.';
    if (!/-----BEGIN (EC |RSA |ENCRYPTED )?PRIVATE KEY-----/.test(f.privateKey)) errors['privateKey'] = 'Paste the private key as PEM (PKCS#8 or traditional).';
    if (f.chain && !f.chain.includes('-----BEGIN CERTIFICATE-----')) errors['chain'] = 'PEM certificates, or leave empty.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const ca = await action.run(() => post<Ca>('/api/v1/cas/import', { name: f.name, certificate: f.certificate, privateKey: f.privateKey, ...(f.chain ? { chain: f.chain } : {}) }));
    if (ca) onDone(ca);
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form">
      <Field label="Name" error={invalid['name']} hint={CA_NAME_HINT}><input name="import-name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} /></Field>
      <div className="grid-2">
        <Field label="CA certificate (PEM)" error={invalid['certificate']}><textarea className="mono" rows={6} name="import-cert" value={f.certificate} onChange={(e) => setF({ ...f, certificate: e.target.value })} /></Field>
        <Field label="Private key (PEM)" error={invalid['privateKey']} hint="Sealed with the master key at once; never shown again."><textarea className="mono" rows={6} name="import-key" value={f.privateKey} onChange={(e) => setF({ ...f, privateKey: e.target.value })} /></Field>
      </div>
      <Field label="Issuer chain (PEM, optional)" error={invalid['chain']}><textarea className="mono" rows={4} name="import-chain" value={f.chain} onChange={(e) => setF({ ...f, chain: e.target.value })} /></Field>
      <ErrorBox error={action.error} />
      <button type="submit" disabled={action.busy}>Import CA</button>
    </form>
  );
}

interface ServerRow { connection: string; priority: string; maxRequestsPerSecond: string }

function ServersEditor({ rows, setRows, connections }: { rows: ServerRow[]; setRows: (r: ServerRow[]) => void; connections: Connection[] }) {
  return (
    <div className="servers">
      {rows.map((r, i) => (
        <div key={i} className="server-row">
          <select aria-label="Connection" value={r.connection} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, connection: e.target.value } : x)))}>
            <option value="">Connection…</option>{connections.map((c) => <option key={c.id} value={c.name}>{c.name} ({c.url})</option>)}
          </select>
          <input aria-label="Priority" title="Priority: 1 is asked first" inputMode="numeric" value={r.priority} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, priority: e.target.value } : x)))} />
          <input aria-label="Requests per second" placeholder="max req/s" inputMode="numeric" value={r.maxRequestsPerSecond} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, maxRequestsPerSecond: e.target.value } : x)))} />
          <button type="button" className="link" onClick={() => setRows(rows.filter((_, j) => j !== i))} disabled={rows.length === 1}>Remove</button>
        </div>
      ))}
      <button type="button" className="secondary small" onClick={() => setRows([...rows, { connection: '', priority: String(rows.length + 1), maxRequestsPerSecond: '' }])}>Add server</button>
    </div>
  );
}

function serversBody(rows: ServerRow[]): { errors: string | undefined; servers: { connection: string; priority: number; maxRequestsPerSecond?: number }[] } {
  const bad = rows.find((r) => !r.connection || !(Number(r.priority) >= 1 && Number(r.priority) <= 100) || (r.maxRequestsPerSecond && !(Number(r.maxRequestsPerSecond) >= 1)));
  return {
    errors: bad ? 'Each server needs a connection, a priority from 1 to 100 and an optional rate of 1 or more.' : undefined,
    servers: rows.map((r) => ({ connection: r.connection, priority: Number(r.priority), ...(r.maxRequestsPerSecond ? { maxRequestsPerSecond: Number(r.maxRequestsPerSecond) } : {}) })),
  };
}

function CreateAdcsCa({ onDone }: { onDone: (ca: Ca) => void }) {
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

export function CasPage() {
  const { me } = useAuth();
  const can = abilities(me?.role);
  const navigate = useNavigate();
  const cas = useLoad(() => get<{ items: Ca[] }>('/api/v1/cas'), []);
  const [form, setForm] = useState<'' | 'create' | 'import' | 'adcs'>('');
  const parentName = (id: string | null) => (id ? cas.data?.items.find((c) => c.id === id)?.name ?? '' : '');
  return (
    <>
      <PageHeader title="Certificate authorities">
        {can.manageCas && <>
          <button type="button" onClick={() => setForm('create')}>Create CA</button>
          <button type="button" className="secondary" onClick={() => setForm('import')}>Import</button>
          <button type="button" className="secondary" onClick={() => setForm('adcs')}>Add ADCS CA</button>
        </>}
      </PageHeader>
      {form === 'create' && cas.data && <Panel title="Create an internal CA" onClose={() => setForm('')}><CreateInternalCa cas={cas.data.items} onDone={(ca) => navigate(`/cas/${ca.id}`)} /></Panel>}
      {form === 'import' && <Panel title="Import a CA certificate and key" onClose={() => setForm('')}><ImportCa onDone={(ca) => navigate(`/cas/${ca.id}`)} /></Panel>}
      {form === 'adcs' && <Panel title="Add an ADCS CA" onClose={() => setForm('')}><CreateAdcsCa onDone={(ca) => navigate(`/cas/${ca.id}`)} /></Panel>}
      <ErrorBox error={cas.error} />
      {cas.loading && !cas.data ? <Loading /> : cas.data && cas.data.items.length === 0 ? <Empty title="No CAs.">Create a root CA, import one, or add an ADCS CA.</Empty> : (
        <div className="table-wrap">
          <table className="table" data-testid="cas-table">
            <thead><tr><th>Name</th><th>Type</th><th>Status</th><th className="hide-phone">Subject</th><th className="hide-phone">Signed by</th><th>Valid until</th><th className="hide-phone">OCSP</th></tr></thead>
            <tbody>{cas.data?.items.map((c) => (
              <tr key={c.id}>
                <td><Link to={`/cas/${c.id}`}>{c.name}</Link></td>
                <td>{caKind(c)}</td>
                <td><Status value={c.status} /></td>
                <td className="hide-phone">{c.subject ?? '—'}</td>
                <td className="hide-phone">{parentName(c.parentId) || '—'}</td>
                <td>{fmtDay(c.notAfter)}</td>
                <td className="hide-phone">{c.type === 'adcs' ? '—' : c.ocspSigning === 'delegated' ? 'Delegated responder' : 'CA key'}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </>
  );
}

function AdcsServers({ ca, manage }: { ca: Ca; manage: boolean }) {
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

function AdcsTemplates({ ca, manage }: { ca: Ca; manage: boolean }) {
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
function AdcsSubordinate({ ca }: { ca: Ca }) {
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

export function CaDetailPage() {
  const { id = '' } = useParams();
  const { me } = useAuth();
  const can = abilities(me?.role);
  const ca = useLoad(() => get<Ca>(`/api/v1/cas/${id}`), [id]);
  const action = useAction();
  if (ca.error) return <><PageHeader title="CA" /><ErrorBox error={ca.error} /></>;
  if (!ca.data) return <Loading />;
  const c = ca.data;
  const update = async (body: Record<string, string>) => { if (await action.run(() => patch(`/api/v1/cas/${c.id}`, body))) ca.reload(); };
  return (
    <>
      <PageHeader title={c.name}><Status value={c.status} /></PageHeader>
      <div className="two-columns">
        <Panel title="Details">
          <dl className="facts">
            <dt>Type</dt><dd>{c.type === 'adcs' ? 'ADCS' : `Internal ${caKind(c).toLowerCase()}`}</dd>
            {c.type !== 'adcs' && c.certificate && <><dt>Issuer</dt><dd>{(() => { try { return parseCertificate(c.certificate).issuer; } catch { return '—'; } })()}</dd></>}
            <dt>Subject</dt><dd>{c.subject ?? '—'}</dd>
            <dt>Key</dt><dd>{c.keyAlgorithm ?? '—'}</dd>
            <dt>Valid</dt><dd>{fmtDay(c.notBefore)} – {fmtDay(c.notAfter)}</dd>
            <dt>Serial</dt><dd className="mono break">{c.serial ?? '—'}</dd>
            <dt>Id</dt><dd className="mono break">{c.id}</dd>
          </dl>
        </Panel>
        <Panel title="Distribution">
          <div className="button-row">
            <a className="button secondary" href={`/api/v1/cas/${c.id}/chain`} download={`${c.name}-chain.pem`}>Download chain (PEM)</a>
            {c.certificate && <a className="button secondary" href={`/ca/${c.id}.crt`} download>Certificate (DER)</a>}
            {c.type !== 'adcs' && <a className="button secondary" href={`/crl/${c.id}.crl`} download>CRL</a>}
          </div>
          {c.type !== 'adcs' && <p className="muted">Relying parties find <code>/ca/{c.id.slice(0, 8)}….crt</code>, <code>/crl/…</code> and <code>/ocsp/…</code> through the AIA and CRL distribution point of issued certificates.</p>}
          {can.manageCas && (
            <div className="form">
              {c.type !== 'adcs' && (
                <Field label="OCSP answers signed by" hint="Delegated: a monthly responder certificate with ocsp-nocheck keeps the CA key out of OCSP traffic.">
                  <select name="ocsp-signing" value={c.ocspSigning} onChange={(e) => void update({ ocspSigning: e.target.value })}>
                    <option value="ca">The CA key</option><option value="delegated">A delegated responder</option>
                  </select>
                </Field>
              )}
              <button type="button" className={c.status === 'active' ? 'danger' : ''} onClick={() => void update({ status: c.status === 'active' ? 'disabled' : 'active' })}>{c.status === 'active' ? 'Disable CA' : 'Enable CA'}</button>
              <ErrorBox error={action.error} />
            </div>
          )}
        </Panel>
      </div>
      {c.type === 'adcs' && <><AdcsServers ca={c} manage={can.manageCas} /><AdcsTemplates ca={c} manage={can.manageCas} />{can.manageCas && <AdcsSubordinate ca={c} />}</>}
      {c.certificate && <details className="panel"><summary>CA certificate ({commonName(c.subject ?? c.name)})</summary><pre className="pem">{c.certificate}</pre></details>}
    </>
  );
}
