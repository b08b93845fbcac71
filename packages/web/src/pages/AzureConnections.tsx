import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { del, get, patch, post } from '../api.ts';
import { abilities, useAuth } from '../auth.tsx';
import { Empty, ErrorBox, Field, Loading, PageHeader, Panel, Status, fmtDate, useAction, useLoad } from '../ui.tsx';

type AzureType = 'azure-client-secrets' | 'azure-key-vault';

/** `GET /api/v1/connections?type=azure-…` items (azure-connection-service.ts azureConnectionDto). */
export interface AzureConnection {
  id: string; name: string; type: AzureType; method: 'client-secret' | 'certificate' | 'oauth'; tenantId: string; clientId: string;
  authorityHost: string; caPem: string | null; graphUrl: string; vaultUrlTemplate: string | null; vaultName: string | null; secretSet: boolean;
  certificate: { subject: string; notAfter: string; thumbprint: string } | null;
  oauth: { signedInAs: string | null; connected: boolean } | null;
  rotation: { enabled: boolean; keyId: string | null; intervalDays: number | null; time: string | null; timeZone: string | null; lastRotationAt: string | null; nextRotationAt: string | null; attempts: number; inProgress: boolean };
  lastError: string | null; lastErrorAt: string | null; createdAt: string; updatedAt: string;
}

/** `POST /api/v1/connections/{id}/rotate-secret`: one rotation now (azure-connection-service.ts rotateNow). */
interface RotateNowAnswer { ok: boolean; keyId?: string; error?: string; connection: AzureConnection }

interface AzureTestReport { ok: boolean; method: string; steps: { step: string; ok: boolean; detail: string; status?: number; missingPermission?: string }[] }

const TYPES: Record<AzureType, string> = { 'azure-client-secrets': 'App registration secrets (Microsoft Graph)', 'azure-key-vault': 'Azure Key Vault' };
const CLOUDS = {
  public: { label: 'Azure (public)', authorityHost: 'https://login.microsoftonline.com' },
  usgov: { label: 'Azure US Government', authorityHost: 'https://login.microsoftonline.us' },
  china: { label: 'Azure China (21Vianet)', authorityHost: 'https://login.chinacloudapi.cn' },
  custom: { label: 'Other authority host', authorityHost: '' },
};
type Cloud = keyof typeof CLOUDS;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const TENANT = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const HTTPS = /^https:\/\/[^/\s]+/;
const STEP_LABELS: Record<string, string> = { token: 'Token', graph: 'Microsoft Graph', 'key-vault': 'Key Vault' };

/** New Azure connection: client secret, certificate, or OAuth sign-in (the browser goes to Entra and comes back). */
function AzureConnectionForm({ onDone }: { onDone: () => void }) {
  const [f, setF] = useState({
    name: '', type: 'azure-client-secrets' as AzureType, method: 'client-secret' as AzureConnection['method'], tenantId: '', clientId: '', clientSecret: '',
    certificatePem: '', privateKeyPem: '', loginHint: '', cloud: 'public' as Cloud, authorityHost: '', graphUrl: '', vaultUrlTemplate: '', caPem: '', vaultName: '',
  });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    const oauth = f.method === 'oauth';
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(f.name)) errors['name'] = 'Letters, digits and . _ -; up to 100.';
    if (!oauth || f.tenantId) if (!GUID.test(f.tenantId) && !TENANT.test(f.tenantId)) errors['tenantId'] = 'The directory (tenant) id, a GUID, or a domain such as contoso.onmicrosoft.com.';
    if (!oauth && !GUID.test(f.clientId)) errors['clientId'] = 'The application (client) id, a GUID.';
    if (f.method === 'client-secret' && !f.clientSecret) errors['clientSecret'] = 'The client secret value (not its id).';
    if (f.method === 'certificate' && !f.certificatePem.includes('-----BEGIN CERTIFICATE-----')) errors['certificatePem'] = 'The PEM certificate uploaded to the app registration.';
    if (f.method === 'certificate' && !/-----BEGIN (RSA )?PRIVATE KEY-----/.test(f.privateKeyPem)) errors['privateKeyPem'] = 'Its unencrypted RSA private key (PEM).';
    if (f.cloud === 'custom') {
      if (!HTTPS.test(f.authorityHost)) errors['authorityHost'] = 'An https:// URL.';
      if (!HTTPS.test(f.graphUrl)) errors['graphUrl'] = 'A custom authority needs the Graph URL (https://).';
      if (f.vaultUrlTemplate && !f.vaultUrlTemplate.includes('{vault}')) errors['vaultUrlTemplate'] = 'Must contain {vault}, e.g. https://{vault}.vault.azure.net.';
    }
    if (f.caPem && !f.caPem.includes('-----BEGIN CERTIFICATE-----')) errors['caPem'] = 'PEM certificates.';
    if (f.type === 'azure-key-vault' && f.vaultName && !/^https:\/\//.test(f.vaultName) && !/^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/.test(f.vaultName)) errors['vaultName'] = 'A vault name (3–24 letters, digits, dashes) or its https:// URL.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const cloud = {
      ...(f.cloud === 'custom' ? { authorityHost: f.authorityHost.trim(), graphUrl: f.graphUrl.trim(), ...(f.vaultUrlTemplate ? { vaultUrlTemplate: f.vaultUrlTemplate.trim() } : {}) } : { authorityHost: CLOUDS[f.cloud].authorityHost }),
      ...(f.caPem.trim() ? { caPem: f.caPem.trim() } : {}),
      ...(f.type === 'azure-key-vault' && f.vaultName.trim() ? { vaultName: f.vaultName.trim() } : {}),
    };
    if (oauth) {
      const started = await action.run(() => post<{ authorizeUrl: string }>('/api/v1/connections/azure/oauth/start', {
        name: f.name, type: f.type, ...(f.tenantId ? { tenantId: f.tenantId.trim() } : {}), ...(f.loginHint.trim() ? { loginHint: f.loginHint.trim() } : {}), returnTo: '/connections/azure', ...cloud,
      }));
      if (started) window.location.assign(started.authorizeUrl);
      return;
    }
    const secret = f.method === 'client-secret' ? { clientSecret: f.clientSecret } : { certificatePem: f.certificatePem.trim(), privateKeyPem: f.privateKeyPem.trim() };
    if (await action.run(() => post('/api/v1/connections', { name: f.name, type: f.type, method: f.method, tenantId: f.tenantId.trim(), clientId: f.clientId.trim(), ...secret, ...cloud }))) onDone();
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form">
      <div className="grid-2">
        <Field label="Name" error={invalid['name']}><input name="az-name" value={f.name} onChange={set('name')} /></Field>
        <Field label="Type"><select name="az-type" value={f.type} onChange={set('type')}>{Object.entries(TYPES).map(([k, v]) => <option key={k} value={k}>{v}</option>)}</select></Field>
        <Field label="Sign-in method"><select name="az-method" value={f.method} onChange={set('method')}>
          <option value="client-secret">Client secret</option><option value="certificate">Certificate</option><option value="oauth">Connect to Azure (OAuth, as you)</option>
        </select></Field>
        <Field label="Cloud"><select name="az-cloud" value={f.cloud} onChange={set('cloud')}>{Object.entries(CLOUDS).map(([k, v]) => <option key={k} value={k}>{v.label}</option>)}</select></Field>
        <Field label="Tenant" error={invalid['tenantId']} hint={f.method === 'oauth' ? 'Optional: empty signs in to your own organisation.' : 'Directory (tenant) id or domain.'}><input name="az-tenant" value={f.tenantId} onChange={set('tenantId')} autoComplete="off" /></Field>
        {f.method !== 'oauth' && <Field label="Application (client) id" error={invalid['clientId']}><input name="az-client-id" value={f.clientId} onChange={set('clientId')} autoComplete="off" /></Field>}
        {f.method === 'oauth' && <Field label="Sign in as" hint="Optional: your account, e.g. you@contoso.com."><input name="az-login-hint" value={f.loginHint} onChange={set('loginHint')} autoComplete="off" /></Field>}
        {f.method === 'client-secret' && <Field label="Client secret" error={invalid['clientSecret']} hint="Sealed at rest; never shown again."><input name="az-client-secret" type="password" autoComplete="new-password" value={f.clientSecret} onChange={set('clientSecret')} /></Field>}
        {f.type === 'azure-key-vault' && <Field label="Default vault" error={invalid['vaultName']} hint="Optional: a vault name or https URL; syncs may name another."><input name="az-vault" value={f.vaultName} onChange={set('vaultName')} /></Field>}
      </div>
      {f.cloud === 'custom' && <div className="grid-3">
        <Field label="Authority host" error={invalid['authorityHost']}><input name="az-authority" value={f.authorityHost} onChange={set('authorityHost')} /></Field>
        <Field label="Graph URL" error={invalid['graphUrl']}><input name="az-graph" value={f.graphUrl} onChange={set('graphUrl')} /></Field>
        <Field label="Vault URL template" error={invalid['vaultUrlTemplate']} hint="Optional, with {vault}."><input name="az-vault-template" value={f.vaultUrlTemplate} onChange={set('vaultUrlTemplate')} /></Field>
      </div>}
      {f.method === 'certificate' && <div className="grid-2">
        <Field label="Certificate (PEM)" error={invalid['certificatePem']}><textarea name="az-cert" rows={5} className="mono" value={f.certificatePem} onChange={set('certificatePem')} /></Field>
        <Field label="Private key (PEM)" error={invalid['privateKeyPem']} hint="RSA; sealed at rest."><textarea name="az-key" rows={5} className="mono" value={f.privateKeyPem} onChange={set('privateKeyPem')} /></Field>
      </div>}
      {f.cloud === 'custom' && <Field label="Trusted CA for the authority's TLS certificate (PEM)" error={invalid['caPem']} hint="Only for endpoints whose certificate comes from a private CA (Azure Stack, an emulator)."><textarea name="az-ca" rows={3} className="mono" value={f.caPem} onChange={set('caPem')} /></Field>}
      <ErrorBox error={action.error} />
      <button type="submit" disabled={action.busy}>{f.method === 'oauth' ? 'Connect to Azure' : 'Create connection'}</button>
    </form>
  );
}

/** Rotation of a client-secret connection's own secret: toggle, the current key id, interval and local time. */
function RotationForm({ c, onDone }: { c: AzureConnection; onDone: () => void }) {
  const r = c.rotation;
  const [f, setF] = useState({ enabled: r.enabled, keyId: r.keyId ?? '', intervalDays: String(r.intervalDays ?? 90), time: r.time ?? '03:00', timeZone: r.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (f.enabled) {
      if (!GUID.test(f.keyId)) errors['keyId'] = 'The key id (GUID) of the secret this connection holds now, from the app registration.';
      if (!(Number.isInteger(Number(f.intervalDays)) && Number(f.intervalDays) >= 1 && Number(f.intervalDays) <= 365)) errors['intervalDays'] = '1 to 365 days.';
      if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(f.time)) errors['time'] = 'HH:MM, 24-hour.';
      if (!f.timeZone.trim()) errors['timeZone'] = 'An IANA time zone such as Europe/Berlin.';
    }
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const rotation = f.enabled ? { enabled: true, keyId: f.keyId.trim(), intervalDays: Number(f.intervalDays), time: f.time, timeZone: f.timeZone.trim() } : { enabled: false };
    if (await action.run(() => patch(`/api/v1/connections/${c.id}`, { rotation }))) onDone();
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form" data-testid="rotation-form">
      <label className="check"><input type="checkbox" name="rot-enabled" checked={f.enabled} onChange={(e) => setF({ ...f, enabled: e.target.checked })} /> Rotate the client secret automatically</label>
      {f.enabled && !r.enabled && <div className="notice">Saving rotates at once: Certbridge adds a new secret to the app registration, switches to it once Entra accepts it, and removes the current one.</div>}
      <div className="grid-2">
        <Field label="Current secret's key id" error={invalid['keyId']} hint="Removed from the app once the new secret works."><input name="rot-key-id" value={f.keyId} disabled={!f.enabled} onChange={(e) => setF({ ...f, keyId: e.target.value })} /></Field>
        <Field label="Every (days)" error={invalid['intervalDays']}><input name="rot-interval" inputMode="numeric" value={f.intervalDays} disabled={!f.enabled} onChange={(e) => setF({ ...f, intervalDays: e.target.value })} /></Field>
        <Field label="At (local time)" error={invalid['time']}><input name="rot-time" type="time" value={f.time} disabled={!f.enabled} onChange={(e) => setF({ ...f, time: e.target.value })} /></Field>
        <Field label="Time zone" error={invalid['timeZone']}><input name="rot-tz" value={f.timeZone} disabled={!f.enabled} onChange={(e) => setF({ ...f, timeZone: e.target.value })} /></Field>
      </div>
      <ErrorBox error={action.error} />
      <button type="submit" className="secondary" disabled={action.busy}>Save rotation</button>
    </form>
  );
}

/** Edit: replace the secret or certificate, change tenant, client id or the default vault (only what changed is sent). */
function AzureEditForm({ c, onDone }: { c: AzureConnection; onDone: () => void }) {
  const [f, setF] = useState({ tenantId: c.tenantId, clientId: c.clientId, clientSecret: '', certificatePem: '', privateKeyPem: '', vaultName: c.vaultName ?? '' });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!GUID.test(f.tenantId) && !TENANT.test(f.tenantId)) errors['tenantId'] = 'The directory (tenant) id, a GUID, or a domain such as contoso.onmicrosoft.com.';
    if (c.method !== 'oauth' && !GUID.test(f.clientId)) errors['clientId'] = 'The application (client) id, a GUID.';
    if (c.method === 'certificate' && Boolean(f.certificatePem) !== Boolean(f.privateKeyPem)) errors['privateKeyPem'] = 'Give the new certificate and its key together.';
    if (f.certificatePem && !f.certificatePem.includes('-----BEGIN CERTIFICATE-----')) errors['certificatePem'] = 'A PEM certificate.';
    if (c.type === 'azure-key-vault' && f.vaultName && !/^https:\/\//.test(f.vaultName) && !/^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/.test(f.vaultName)) errors['vaultName'] = 'A vault name (3–24 letters, digits, dashes) or its https:// URL.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const body = {
      ...(f.tenantId.trim() !== c.tenantId ? { tenantId: f.tenantId.trim() } : {}),
      ...(c.method !== 'oauth' && f.clientId.trim() !== c.clientId ? { clientId: f.clientId.trim() } : {}),
      ...(f.clientSecret ? { clientSecret: f.clientSecret } : {}),
      ...(f.certificatePem ? { certificatePem: f.certificatePem.trim(), privateKeyPem: f.privateKeyPem.trim() } : {}),
      ...(c.type === 'azure-key-vault' && f.vaultName.trim() !== (c.vaultName ?? '') ? { vaultName: f.vaultName.trim() || null } : {}),
    };
    if (Object.keys(body).length === 0) { onDone(); return; }
    if (await action.run(() => patch(`/api/v1/connections/${c.id}`, body))) onDone();
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form" data-testid="azure-edit-form">
      <div className="grid-2">
        <Field label="Tenant" error={invalid['tenantId']}><input name="edit-tenant" value={f.tenantId} onChange={set('tenantId')} autoComplete="off" /></Field>
        {c.method !== 'oauth' && <Field label="Application (client) id" error={invalid['clientId']}><input name="edit-client-id" value={f.clientId} onChange={set('clientId')} autoComplete="off" /></Field>}
        {c.method === 'client-secret' && <Field label="New client secret" hint="Leave empty to keep the stored one."><input name="edit-client-secret" type="password" autoComplete="new-password" value={f.clientSecret} onChange={set('clientSecret')} /></Field>}
        {c.type === 'azure-key-vault' && <Field label="Default vault" error={invalid['vaultName']} hint="A vault name or https URL; empty: none."><input name="edit-vault" value={f.vaultName} onChange={set('vaultName')} /></Field>}
      </div>
      {c.method === 'certificate' && <div className="grid-2">
        <Field label="New certificate (PEM)" error={invalid['certificatePem']} hint="Leave both empty to keep the stored ones."><textarea name="edit-cert" rows={4} className="mono" value={f.certificatePem} onChange={set('certificatePem')} /></Field>
        <Field label="Its private key (PEM)" error={invalid['privateKeyPem']}><textarea name="edit-key" rows={4} className="mono" value={f.privateKeyPem} onChange={set('privateKeyPem')} /></Field>
      </div>}
      <ErrorBox error={action.error} />
      <button type="submit" className="secondary" disabled={action.busy}>Save connection</button>
    </form>
  );
}

function AzureTestSteps({ report }: { report: AzureTestReport }) {
  return (
    <ol className="steps" data-testid="azure-test">
      {report.steps.map((s) => (
        <li key={s.step} className={`step step-${s.ok ? 'ok' : 'bad'}`}>
          <span className="step-mark">{s.ok ? '✓' : '✗'}</span> <strong>{STEP_LABELS[s.step] ?? s.step}</strong> {s.detail}
          {s.status ? <> <code>HTTP {s.status}</code></> : null}{s.missingPermission && !s.detail.includes(s.missingPermission) ? <> — missing permission <code>{s.missingPermission}</code></> : null}
        </li>
      ))}
    </ol>
  );
}

/** Azure connections: Graph (app registration secrets, with rotation) and Key Vault (syncs). */
export function AzureConnectionsPage() {
  const { me } = useAuth();
  const can = abilities(me?.role);
  const [params, setParams] = useSearchParams();
  const returned = params.get('connection');
  const list = useLoad(async () => {
    const [a, b] = await Promise.all((['azure-client-secrets', 'azure-key-vault'] as const).map((t) => get<{ items: AzureConnection[] }>(`/api/v1/connections?type=${t}`)));
    return [...a!.items, ...b!.items].sort((x, y) => x.name.localeCompare(y.name));
  }, []);
  const [creating, setCreating] = useState(false);
  const [tests, setTests] = useState<Record<string, AzureTestReport | 'running'>>({});
  const [rotating, setRotating] = useState<string>();
  const [editing, setEditing] = useState<string>();
  const action = useAction();
  const [rotatedNow, setRotatedNow] = useState<Record<string, RotateNowAnswer | 'running'>>({});
  const rotateNow = async (c: AzureConnection) => {
    if (!confirm(`Rotate the client secret of ${c.name} now? A new secret is added to the app registration, used once Entra accepts it, and the current one is removed.`)) return;
    setRotatedNow((r) => ({ ...r, [c.id]: 'running' }));
    const answer = await action.run(() => post<RotateNowAnswer>(`/api/v1/connections/${c.id}/rotate-secret`));
    setRotatedNow((r) => { const next = { ...r }; if (answer) next[c.id] = answer; else delete next[c.id]; return next; });
    list.reload();
  };
  const test = async (c: AzureConnection) => {
    setTests((t) => ({ ...t, [c.id]: 'running' }));
    const report = await action.run(() => post<AzureTestReport>(`/api/v1/connections/${c.id}/test`));
    setTests((t) => { const next = { ...t }; if (report) next[c.id] = report; else delete next[c.id]; return next; });
  };
  const connected = returned ? list.data?.find((c) => c.id === returned) : undefined;
  // A failed sign-in comes back from the OAuth callback with the API error's code, reason and message.
  const oauthError = params.get('oauthError');

  return (
    <>
      <PageHeader title="Azure connections">{can.manageConnections && <button type="button" onClick={() => setCreating(true)}>New Azure connection</button>}</PageHeader>
      <p className="muted">How Certbridge signs in to Microsoft Entra: to rotate app registration secrets through Microsoft Graph, or to put certificates into Azure Key Vault.</p>
      {connected && (
        <div className="notice notice-ok" role="status" data-testid="oauth-result">
          Connected “{connected.name}”{connected.oauth?.signedInAs ? <> as <strong>{connected.oauth.signedInAs}</strong></> : null}. Use “Test connection” to check its permissions.
          {' '}<button type="button" className="link" onClick={() => setParams({})}>Dismiss</button>
        </div>
      )}
      {oauthError && (
        <div className="error" role="alert" data-testid="oauth-error">
          <strong>“Connect to Azure” did not complete.</strong> <code className="error-code">{oauthError}</code> {params.get('oauthMessage') ?? ''}
          {params.get('oauthReason') ? <div className="muted">reason: {params.get('oauthReason')}</div> : null}
          <div>Nothing was created; start the sign-in again with “New Azure connection”. <button type="button" className="link" onClick={() => setParams({})}>Dismiss</button></div>
        </div>
      )}
      {creating && <Panel title="New Azure connection" onClose={() => setCreating(false)}><AzureConnectionForm onDone={() => { setCreating(false); list.reload(); }} /></Panel>}
      <ErrorBox error={list.error ?? action.error} />
      {list.loading && !list.data ? <Loading /> : list.data && list.data.length === 0 ? <Empty title="No Azure connections.">{can.manageConnections ? 'Add one to sync certificates to Key Vault or to rotate app registration secrets.' : 'An administrator adds them.'}</Empty> : list.data?.map((c) => {
        const t = tests[c.id];
        const rn = rotatedNow[c.id];
        const rotatable = c.type === 'azure-client-secrets' && c.method === 'client-secret';
        return (
          <section key={c.id} className="panel" data-testid={`azure-connection-${c.name}`}>
            <div className="panel-head">
              <h2>{c.name}</h2>
              {can.manageConnections && <div className="button-row">
                <button type="button" onClick={() => void test(c)} disabled={t === 'running'}>{t === 'running' ? 'Testing…' : 'Test connection'}</button>
                <button type="button" className="secondary" onClick={() => setEditing(editing === c.id ? undefined : c.id)}>Edit</button>
                {rotatable && <button type="button" className="secondary" onClick={() => setRotating(rotating === c.id ? undefined : c.id)}>Rotation</button>}
                {rotatable && c.rotation.enabled && <button type="button" className="secondary" onClick={() => void rotateNow(c)} disabled={rn === 'running'}>{rn === 'running' ? 'Rotating…' : 'Rotate now'}</button>}
                <button type="button" className="danger" onClick={() => { if (confirm(`Delete connection ${c.name}?`)) void action.run(() => del(`/api/v1/connections/${c.id}`)).then(list.reload); }}>Delete</button>
              </div>}
            </div>
            <dl className="facts">
              <dt>Type</dt><dd>{TYPES[c.type]}</dd>
              <dt>Sign-in</dt><dd>{c.method === 'oauth' ? `OAuth as ${c.oauth?.signedInAs ?? '?'}${c.oauth?.connected ? '' : ' (not connected)'}` : c.method === 'certificate' ? `certificate ${c.certificate?.thumbprint ?? ''}, expires ${fmtDate(c.certificate?.notAfter)}` : `client secret${c.secretSet ? '' : ' (missing)'}`}</dd>
              <dt>Tenant</dt><dd className="break">{c.tenantId}</dd>{c.method !== 'oauth' && <><dt>Client id</dt><dd className="mono break">{c.clientId}</dd></>}
              <dt>Authority</dt><dd className="break">{c.authorityHost}</dd>
              {c.type === 'azure-key-vault' && <><dt>Default vault</dt><dd className="break">{c.vaultName ?? '—'}</dd></>}
              {rotatable && <><dt>Rotation</dt><dd data-testid="rotation-summary">{c.rotation.enabled ? `every ${c.rotation.intervalDays} days at ${c.rotation.time} ${c.rotation.timeZone}` : 'off'}{c.rotation.inProgress ? ' (rotating now)' : ''}</dd>
                <dt>Last rotation</dt><dd data-testid="last-rotation">{fmtDate(c.rotation.lastRotationAt)}</dd><dt>Next rotation</dt><dd>{fmtDate(c.rotation.nextRotationAt)}</dd></>}
            </dl>
            {c.lastError && <div className="notice notice-bad"><Status value="failed" /> {c.lastError} <span className="muted">({fmtDate(c.lastErrorAt)})</span></div>}
            {editing === c.id && <AzureEditForm c={c} onDone={() => { setEditing(undefined); list.reload(); }} />}
            {rotating === c.id && <RotationForm c={c} onDone={() => { setRotating(undefined); list.reload(); }} />}
            {rn === 'running' && <div className="loading"><span className="spinner" /> Adding a new secret and waiting until Entra accepts it (up to a few minutes)…</div>}
            {rn && rn !== 'running' && (rn.ok
              ? <div className="notice notice-ok" role="status" data-testid="rotate-now-result">Rotated: the connection now uses the secret with key id <code>{rn.keyId}</code>; the previous one was removed.</div>
              : <div className="notice notice-bad" role="alert" data-testid="rotate-now-result">Rotation failed, the current secret stays in use: {rn.error} Certbridge retries {fmtDate(rn.connection.rotation.nextRotationAt)}.</div>)}
            {t === 'running' && <div className="loading"><span className="spinner" /> Asking Entra for a token, then making one read-only call…</div>}
            {t && t !== 'running' && <AzureTestSteps report={t} />}
          </section>
        );
      })}
    </>
  );
}
