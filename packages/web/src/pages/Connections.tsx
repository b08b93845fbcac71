import { useState, type FormEvent, type ReactNode } from 'react';
import { del, get, patch, post } from '../api.ts';
import { abilities, useAuth } from '../auth.tsx';
import type { Connection, ConnectionTest } from '../types.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader, Panel, fmtDate, useAction, useLoad } from '../ui.tsx';

const AUTH_KINDS = ['ntlm', 'kerberos', 'negotiate', 'basic'];
const KERBEROS_KINDS = ['kerberos', 'negotiate'];

/** A keytab file as the API takes it (base64), read in the browser so it only travels in the request. */
async function fileBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function ConnectionForm({ connection, onDone }: { connection?: Connection; onDone: () => void }) {
  const [f, setF] = useState({
    name: connection?.name ?? '', url: connection?.url ?? 'https://', domain: connection?.domain ?? '', username: connection?.username ?? '', password: '',
    auth: connection?.auth ?? 'ntlm', caPem: connection?.caPem ?? '', rejectUnauthorized: connection?.rejectUnauthorized ?? true,
    timeoutMs: String(connection?.timeoutMs ?? 30000), maxSockets: String(connection?.maxSockets ?? 4),
    keytab: '', removeKeytab: false, kdcs: (connection?.kdcs ?? []).join(', '),
  });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!connection && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(f.name)) errors['name'] = 'Letters, digits and . _ -; up to 100.';
    if (!/^https:\/\/[^/\s]+/.test(f.url)) errors['url'] = 'The certsrv URL over https, e.g. https://ca1.corp.example/certsrv/.';
    if (!f.domain.trim()) errors['domain'] = 'The account’s domain, e.g. CORP.';
    if (!f.username.trim()) errors['username'] = 'The enrollment account.';
    const kerberos = KERBEROS_KINDS.includes(f.auth);
    const kdcs = f.kdcs.split(/[\s,]+/).filter(Boolean);
    if (!connection && !f.password && !(kerberos && f.keytab)) errors['password'] = kerberos ? 'The account’s password, or a keytab below.' : 'The account’s password.';
    if (kerberos && kdcs.some((k) => !/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(k))) errors['kdcs'] = 'Host names or host:port, separated by commas.';
    if (f.caPem && !f.caPem.includes('-----BEGIN CERTIFICATE-----')) errors['caPem'] = 'PEM certificates of the CA that issued the server’s TLS certificate.';
    if (!(Number(f.timeoutMs) >= 500 && Number(f.timeoutMs) <= 300000)) errors['timeoutMs'] = '500 to 300000 ms.';
    if (!(Number(f.maxSockets) >= 1 && Number(f.maxSockets) <= 16)) errors['maxSockets'] = '1 to 16.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const body = {
      url: f.url.trim(), domain: f.domain.trim(), username: f.username.trim(), auth: f.auth, caPem: f.caPem.trim() || null,
      rejectUnauthorized: f.rejectUnauthorized, timeoutMs: Number(f.timeoutMs), maxSockets: Number(f.maxSockets), ...(f.password ? { password: f.password } : {}),
      // NTLM and Basic cannot keep Kerberos settings: a stored keytab or KDC list goes with the switch.
      ...(kerberos && f.keytab ? { keytab: f.keytab } : (f.removeKeytab || !kerberos) && connection?.keytabSet ? { keytab: null } : {}),
      ...(kerberos ? { kdcs: kdcs.length ? kdcs : null } : connection?.kdcs.length ? { kdcs: null } : {}),
    };
    if (await action.run(() => (connection ? patch(`/api/v1/connections/${connection.id}`, body) : post('/api/v1/connections', { name: f.name, ...body })))) onDone();
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form">
      <div className="grid-2">
        <Field label="Name" error={invalid['name']}><input name="conn-name" value={f.name} disabled={Boolean(connection)} onChange={set('name')} /></Field>
        <Field label="certsrv URL" error={invalid['url']}><input name="conn-url" value={f.url} onChange={set('url')} /></Field>
        <Field label="Domain" error={invalid['domain']}><input name="conn-domain" value={f.domain} onChange={set('domain')} /></Field>
        <Field label="User name" error={invalid['username']}><input name="conn-username" value={f.username} onChange={set('username')} autoComplete="off" /></Field>
        <Field label="Password" error={invalid['password']} hint={connection ? 'Leave empty to keep the stored password.' : 'Sealed at rest; never shown again.'}><input name="conn-password" type="password" autoComplete="new-password" value={f.password} onChange={set('password')} /></Field>
        <Field label="Authentication"><select name="conn-auth" value={f.auth} onChange={set('auth')}>{AUTH_KINDS.map((k) => <option key={k}>{k}</option>)}</select></Field>
        <Field label="Timeout (ms)" error={invalid['timeoutMs']}><input name="conn-timeout" inputMode="numeric" value={f.timeoutMs} onChange={set('timeoutMs')} /></Field>
        <Field label="Parallel connections" error={invalid['maxSockets']}><input name="conn-sockets" inputMode="numeric" value={f.maxSockets} onChange={set('maxSockets')} /></Field>
      </div>
      {KERBEROS_KINDS.includes(f.auth) && <div className="grid-2">
        <Field label="Keytab (instead of the password)" hint={f.keytab ? `Read (${Math.floor((f.keytab.length * 3) / 4)} bytes); sent when you save.` : connection?.keytabSet ? `Stored for ${connection.keytabPrincipal ?? ''}; choose a file to replace it.` : 'Must hold user@DOMAIN (ktpass or kadmin ktadd). Sealed at rest; never shown again.'}>
          <input name="conn-keytab" type="file" onChange={(e) => { const file = e.target.files?.[0]; if (file) void fileBase64(file).then((keytab) => setF((cur) => ({ ...cur, keytab, removeKeytab: false }))); else setF((cur) => ({ ...cur, keytab: '' })); }} />
        </Field>
        <Field label="KDCs" error={invalid['kdcs']} hint="host or host:port, comma-separated; the connection then uses only these for its realm (the domain). Empty: the server's krb5.conf."><input name="conn-kdcs" value={f.kdcs} onChange={set('kdcs')} /></Field>
        {connection?.keytabSet && <label className="check"><input type="checkbox" checked={f.removeKeytab} disabled={Boolean(f.keytab)} onChange={(e) => setF({ ...f, removeKeytab: e.target.checked })} /> Remove the stored keytab</label>}
      </div>}
      <Field label="Trusted CA for the server's TLS certificate (PEM)" error={invalid['caPem']} hint="Needed when the ADCS web server's certificate comes from your own CA."><textarea name="conn-ca" rows={4} className="mono" value={f.caPem} onChange={set('caPem')} /></Field>
      <label className="check"><input type="checkbox" checked={f.rejectUnauthorized} onChange={(e) => setF({ ...f, rejectUnauthorized: e.target.checked })} /> Verify the server's TLS certificate</label>
      {!f.rejectUnauthorized && <div className="notice notice-bad">Without verification anyone on the network path can impersonate the ADCS server and read the credentials.</div>}
      <ErrorBox error={action.error} />
      <button type="submit" disabled={action.busy}>{connection ? 'Save connection' : 'Create connection'}</button>
    </form>
  );
}

function Step({ ok, label, children }: { ok: boolean | null; label: string; children?: ReactNode }) {
  return <li className={`step step-${ok === null ? 'skip' : ok ? 'ok' : 'bad'}`}><span className="step-mark">{ok === null ? '–' : ok ? '✓' : '✗'}</span> <strong>{label}</strong> {children}</li>;
}

/** "Test connection": each step of the probe (reachable, TLS, auth, EPA, CA name, templates, round trip). */
export function TestReport({ report }: { report: ConnectionTest }) {
  return (
    <ol className="steps" data-testid="connection-test">
      <Step ok={report.reachable} label="Reachable" />
      <Step ok={report.reachable ? report.tls.ok : null} label="TLS">{report.tls.protocol ?? ''} {report.tls.trusted === false ? '(untrusted chain accepted: verification is off)' : ''} {report.tls.code ? <code>{report.tls.code}</code> : null} {report.tls.message ?? ''}</Step>
      <Step ok={report.tls.ok ? report.auth.ok : null} label={`Authentication (${report.auth.kind})`}>{report.auth.message ?? ''}</Step>
      <Step ok={report.epaRequired === null ? null : true} label="Extended Protection (channel binding)">{report.epaRequired === null ? 'not determined' : report.epaRequired ? 'required by the server (sent)' : 'not required'}</Step>
      <Step ok={report.caName ? true : report.auth.ok ? false : null} label="CA name">{report.caName ?? ''}</Step>
      <Step ok={report.templates ? report.templates.length > 0 : null} label="Templates">{report.templates ? report.templates.map((t) => t.name).join(', ') || 'none offered to this account' : ''}</Step>
      <Step ok={report.roundTripMs !== undefined ? true : null} label="Round trip">{report.roundTripMs !== undefined ? `${Math.round(report.roundTripMs)} ms` : ''}</Step>
      {report.error && <li className="step step-bad"><code>{report.error.code}</code> {report.error.message}{report.error.hresult ? ` (${report.error.hresult})` : ''}</li>}
    </ol>
  );
}

export function ConnectionsPage() {
  const { me } = useAuth();
  const can = abilities(me?.role);
  const connections = useLoad(() => get<{ items: Connection[] }>('/api/v1/connections?type=adcs'), []);
  const [editing, setEditing] = useState<Connection | 'new'>();
  const [tests, setTests] = useState<Record<string, ConnectionTest | 'running'>>({});
  const action = useAction();
  const test = async (c: Connection) => {
    setTests((t) => ({ ...t, [c.id]: 'running' }));
    const report = await action.run(() => post<ConnectionTest>(`/api/v1/connections/${c.id}/test`));
    setTests((t) => { const next = { ...t }; if (report) next[c.id] = report; else delete next[c.id]; return next; });
  };
  return (
    <>
      <PageHeader title="ADCS connections">{can.manageConnections && <button type="button" onClick={() => setEditing('new')}>New connection</button>}</PageHeader>
      <p className="muted">Where an ADCS web enrollment server (certsrv) is and how to log in to it. ADCS CAs use one or more connections.</p>
      {editing && <Panel title={editing === 'new' ? 'New connection' : `Edit ${editing.name}`} onClose={() => setEditing(undefined)}><ConnectionForm key={editing === 'new' ? 'new' : editing.id} {...(editing === 'new' ? {} : { connection: editing })} onDone={() => { setEditing(undefined); connections.reload(); }} /></Panel>}
      <ErrorBox error={connections.error ?? action.error} />
      {connections.loading && !connections.data ? <Loading /> : connections.data && connections.data.items.length === 0 ? <Empty title="No ADCS connections.">{can.manageConnections ? 'Add one to issue from Microsoft ADCS.' : 'An administrator adds them.'}</Empty> : connections.data?.items.map((c) => {
        const t = tests[c.id];
        return (
          <section key={c.id} className="panel">
            <div className="panel-head">
              <h2>{c.name}</h2>
              {can.manageConnections && <div className="button-row">
                <button type="button" onClick={() => void test(c)} disabled={t === 'running'}>{t === 'running' ? 'Testing…' : 'Test connection'}</button>
                <button type="button" className="secondary" onClick={() => setEditing(c)}>Edit</button>
                <button type="button" className="danger" onClick={() => { if (confirm(`Delete connection ${c.name}?`)) void action.run(() => del(`/api/v1/connections/${c.id}`)).then(connections.reload); }}>Delete</button>
              </div>}
            </div>
            <dl className="facts">
              <dt>URL</dt><dd className="break">{c.url}</dd><dt>Account</dt><dd>{c.domain}\{c.username} ({c.auth})</dd>
              <dt>TLS</dt><dd>{c.rejectUnauthorized ? 'verified' : 'NOT verified'}{c.caPem ? ', own CA bundle' : ''}</dd><dt>Updated</dt><dd>{fmtDate(c.updatedAt)}</dd>
              {(c.keytabSet || c.kdcs.length > 0) && <><dt>Kerberos</dt><dd>{c.keytabSet ? `keytab set (${c.keytabPrincipal ?? ''})` : 'password'}{c.kdcs.length ? `, KDCs ${c.kdcs.join(', ')}` : ''}</dd></>}
            </dl>
            {c.warnings.map((w) => <div key={w} className="notice notice-bad">{w}</div>)}
            {t === 'running' && <div className="loading"><span className="spinner" /> Asking the server (TLS, login, templates)…</div>}
            {t && t !== 'running' && <TestReport report={t} />}
          </section>
        );
      })}
    </>
  );
}
