import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { del, get, patch, post } from '../api.ts';
import { abilities, useAuth } from '../auth.tsx';
import type { Application, Profile } from '../types.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader, Panel, Status, commonName, fmtDate, useAction, useLoad } from '../ui.tsx';
import type { AzureConnection } from './AzureConnections.tsx';

/** `GET /api/v1/syncs` items (sync-routes.ts syncDto). */
export interface Sync {
  id: string; name: string; type: string; connectionId: string; vaultUrl: string; applicationIds: string[]; profileIds: string[];
  onRevocation: 'disable' | 'delete'; enabled: boolean; lastRunAt: string | null; lastRunError: string | null; createdAt: string; updatedAt: string;
}

/** `GET /api/v1/syncs/{id}/certificates` items. */
interface SyncItem {
  certificateId: string; serial: string; subject: string; certificateStatus: string; notAfter: string; state: string; reason: string | null;
  vaultName: string | null; vaultVersion: string | null; lastSyncedAt: string | null; lastError: string | null; attempts: number; updatedAt: string | null;
}

const VAULT_NAME = /^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;

/** Create a sync, or (with `sync`) change its connection, vault, scope and revocation action. */
function SyncForm({ sync, connections, applications, profiles, onDone }: { sync?: Sync; connections: AzureConnection[]; applications: Application[]; profiles: Profile[]; onDone: () => void }) {
  const [f, setF] = useState({
    name: sync?.name ?? '', connection: sync?.connectionId ?? connections[0]?.id ?? '', vault: sync?.vaultUrl ?? '', applications: sync?.applicationIds ?? [] as string[],
    profiles: sync?.profileIds ?? [] as string[], onRevocation: sync?.onRevocation ?? 'disable' as string,
  });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  const chosen = connections.find((c) => c.id === f.connection);
  const toggle = (k: 'applications' | 'profiles', id: string) => setF({ ...f, [k]: f[k].includes(id) ? f[k].filter((x) => x !== id) : [...f[k], id] });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    const vault = f.vault.trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(f.name)) errors['name'] = 'Letters, digits and . _ -; up to 100.';
    if (!f.connection) errors['connection'] = 'Choose a Key Vault connection.';
    if (vault && !vault.startsWith('https://') && !VAULT_NAME.test(vault)) errors['vault'] = 'A vault name (3–24 letters, digits, dashes) or its https:// URL.';
    if (!vault && (sync || !chosen?.vaultName)) errors['vault'] = 'This connection has no default vault: name one.';
    if (!f.applications.length && !f.profiles.length) errors['scope'] = 'Choose at least one application or profile whose certificates go to the vault.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const target = sync && vault === sync.vaultUrl && f.connection === sync.connectionId ? {}
      : { connection: f.connection, ...(vault ? (vault.startsWith('https://') ? { vaultUrl: vault } : { vaultName: vault }) : {}) };
    const body = { ...target, applications: f.applications, profiles: f.profiles, onRevocation: f.onRevocation };
    if (await action.run(() => (sync ? patch(`/api/v1/syncs/${sync.id}`, body) : post('/api/v1/syncs', { name: f.name, ...body })))) onDone();
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form">
      <div className="grid-2">
        <Field label="Name" error={invalid['name']}><input name="sync-name" value={f.name} disabled={Boolean(sync)} onChange={(e) => setF({ ...f, name: e.target.value })} /></Field>
        <Field label="Key Vault connection" error={invalid['connection']}><select name="sync-connection" value={f.connection} onChange={(e) => setF({ ...f, connection: e.target.value })}>
          {connections.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select></Field>
        <Field label="Vault" error={invalid['vault']} hint={chosen?.vaultName ? `Empty: the connection's vault ${chosen.vaultName}.` : 'A vault name or its https:// URL.'}><input name="sync-vault" value={f.vault} onChange={(e) => setF({ ...f, vault: e.target.value })} /></Field>
        <Field label="When a certificate is revoked"><select name="sync-on-revocation" value={f.onRevocation} onChange={(e) => setF({ ...f, onRevocation: e.target.value })}>
          <option value="disable">Disable its version in the vault</option><option value="delete">Delete it from the vault (soft delete)</option>
        </select></Field>
      </div>
      <div className="grid-2">
        <fieldset className="checks"><legend>Applications</legend>{applications.map((a) => <label key={a.id} className="check"><input type="checkbox" name={`sync-app-${a.name}`} checked={f.applications.includes(a.id)} onChange={() => toggle('applications', a.id)} /> {a.name}</label>)}</fieldset>
        <fieldset className="checks"><legend>Profiles</legend>{profiles.map((p) => <label key={p.id} className="check"><input type="checkbox" name={`sync-profile-${p.slug}`} checked={f.profiles.includes(p.id)} onChange={() => toggle('profiles', p.id)} /> {p.slug}</label>)}</fieldset>
      </div>
      {invalid['scope'] && <div className="field-error">{invalid['scope']}</div>}
      <p className="muted">Only certificates whose private key Certbridge holds (server-side key generation) can go to Key Vault; the others are listed as skipped.</p>
      <ErrorBox error={action.error} />
      <button type="submit" disabled={action.busy}>{sync ? 'Save sync' : 'Create sync'}</button>
    </form>
  );
}

/** Key Vault syncs: which certificates go to which vault, and how each run went. */
export function SyncsPage() {
  const { me } = useAuth();
  const can = abilities(me?.role);
  const syncs = useLoad(() => get<{ items: Sync[] }>('/api/v1/syncs'), []);
  const connections = useLoad(async () => (await get<{ items: AzureConnection[] }>('/api/v1/connections?type=azure-key-vault')).items, []);
  const applications = useLoad(async () => (await get<{ items: Application[] }>('/api/v1/applications')).items, []);
  const profiles = useLoad(async () => (can.readAll ? (await get<{ items: Profile[] }>('/api/v1/profiles')).items : []), [can.readAll]);
  const [creating, setCreating] = useState(false);
  const connectionName = (id: string) => connections.data?.find((c) => c.id === id)?.name ?? id.slice(0, 8);
  const ready = connections.data && applications.data && profiles.data;
  return (
    <>
      <PageHeader title="Key Vault syncs">{can.manageCatalog && <button type="button" onClick={() => setCreating(true)}>New sync</button>}</PageHeader>
      <p className="muted">A sync keeps the certificates of chosen applications and profiles in an Azure Key Vault: new, renewed and revoked certificates follow within seconds.</p>
      {creating && <Panel title="New sync" onClose={() => setCreating(false)}>
        {!ready ? <Loading /> : connections.data!.length === 0 ? <Empty title="No Key Vault connection yet."><Link to="/connections/azure">Create an Azure Key Vault connection</Link> first.</Empty>
          : <SyncForm connections={connections.data!} applications={applications.data!} profiles={profiles.data!} onDone={() => { setCreating(false); syncs.reload(); }} />}
      </Panel>}
      <ErrorBox error={syncs.error ?? connections.error} />
      {syncs.loading && !syncs.data ? <Loading /> : syncs.data && syncs.data.items.length === 0 ? <Empty title="No syncs.">{can.manageCatalog ? 'Create one to put certificates into Azure Key Vault.' : 'An administrator creates them.'}</Empty> : (
        <div className="table-wrap">
          <table className="table" data-testid="syncs-table">
            <thead><tr><th>Name</th><th>Vault</th><th className="hide-phone">Connection</th><th className="hide-phone">On revocation</th><th>Last run</th><th>Status</th></tr></thead>
            <tbody>{syncs.data?.items.map((s) => (
              <tr key={s.id}>
                <td><Link to={`/syncs/${s.id}`}>{s.name}</Link></td><td className="break">{s.vaultUrl}</td><td className="hide-phone">{connectionName(s.connectionId)}</td>
                <td className="hide-phone">{s.onRevocation}</td><td>{fmtDate(s.lastRunAt)}</td>
                <td>{!s.enabled ? <Status value="disabled" /> : s.lastRunError ? <span title={s.lastRunError}><Status value="failed" /></span> : <Status value="active" />}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** One sync: run now, enable/disable, and the state of every certificate in its scope. */
export function SyncDetailPage() {
  const { id = '' } = useParams();
  const { me } = useAuth();
  const can = abilities(me?.role);
  const detail = useLoad(() => get<{ sync: Sync; items: SyncItem[] }>(`/api/v1/syncs/${id}/certificates`), [id]);
  const [editing, setEditing] = useState(false);
  const choices = useLoad(async () => {
    if (!editing) return undefined;
    const [connections, applications, profiles] = await Promise.all([
      get<{ items: AzureConnection[] }>('/api/v1/connections?type=azure-key-vault'), get<{ items: Application[] }>('/api/v1/applications'), get<{ items: Profile[] }>('/api/v1/profiles'),
    ]);
    return { connections: connections.items, applications: applications.items, profiles: profiles.items };
  }, [editing]);
  const action = useAction();
  const [queued, setQueued] = useState(false);
  const sync = detail.data?.sync;
  const run = async () => {
    if (await action.run(() => post(`/api/v1/syncs/${id}/run`))) {
      setQueued(true);
      // The run is queued: look again once it had time to reach the vault.
      setTimeout(detail.reload, 1500);
    }
  };
  const navigate = useNavigate();
  const remove = async () => {
    if (!sync || !confirm(`Delete sync ${sync.name}? What it put in the vault stays there.`)) return;
    if (await action.run(async () => { await del(`/api/v1/syncs/${id}`); return true; })) navigate('/syncs');
  };
  const toggle = async () => { if (sync && await action.run(() => patch(`/api/v1/syncs/${id}`, { enabled: !sync.enabled }))) detail.reload(); };
  return (
    <>
      <PageHeader title={sync ? `Sync ${sync.name}` : 'Sync'}>
        {can.manageCatalog && sync && <>
          <button type="button" onClick={() => void run()} disabled={action.busy || !sync.enabled}>Run now</button>
          <button type="button" className="secondary" onClick={() => void toggle()} disabled={action.busy}>{sync.enabled ? 'Disable' : 'Enable'}</button>
          <button type="button" className="secondary" onClick={() => setEditing(!editing)}>Edit</button>
          <button type="button" className="danger" onClick={() => void remove()} disabled={action.busy}>Delete</button>
        </>}
        <button type="button" className="secondary" onClick={detail.reload}>Refresh</button>
      </PageHeader>
      <ErrorBox error={detail.error ?? action.error} />
      {editing && sync && <Panel title={`Edit ${sync.name}`} onClose={() => setEditing(false)}>
        <ErrorBox error={choices.error} />
        {!choices.data ? <Loading /> : <SyncForm sync={sync} {...choices.data} onDone={() => { setEditing(false); detail.reload(); }} />}
      </Panel>}
      {queued && <div className="notice notice-ok" role="status">Run queued. Refresh to see its results.</div>}
      {detail.loading && !detail.data ? <Loading /> : sync && detail.data && <>
        <dl className="facts panel">
          <dt>Vault</dt><dd className="break">{sync.vaultUrl}</dd><dt>On revocation</dt><dd>{sync.onRevocation}</dd>
          <dt>Last run</dt><dd>{fmtDate(sync.lastRunAt)}</dd><dt>Enabled</dt><dd>{sync.enabled ? 'yes' : 'no'}</dd>
        </dl>
        {sync.lastRunError && <div className="notice notice-bad">Last run failed: {sync.lastRunError}</div>}
        {detail.data.items.length === 0 ? <Empty title="No certificate in this sync's scope yet.">Issue one in a chosen application or profile with a server-generated key.</Empty> : (
          <div className="table-wrap">
            <table className="table" data-testid="sync-items">
              <thead><tr><th>Certificate</th><th>State</th><th>Key Vault name</th><th className="hide-phone">Version</th><th className="hide-phone">Synced at</th><th>Detail</th></tr></thead>
              <tbody>{detail.data.items.map((i) => (
                <tr key={i.certificateId}>
                  <td><Link to={`/certificates/${i.certificateId}`}>{commonName(i.subject)}</Link></td>
                  <td><Status value={i.state} /></td><td className="mono break">{i.vaultName ?? '—'}</td>
                  <td className="hide-phone mono break">{i.vaultVersion ?? '—'}</td><td className="hide-phone">{fmtDate(i.lastSyncedAt)}</td>
                  <td>{i.lastError ? <span className="field-error">{i.lastError}{i.attempts > 1 ? ` (${i.attempts} attempts)` : ''}</span> : i.reason ?? ''}</td>
                </tr>
              ))}</tbody>
            </table>
          </div>
        )}
      </>}
    </>
  );
}
