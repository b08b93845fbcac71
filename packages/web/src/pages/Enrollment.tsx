import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { ApiError, get, post, put } from '../api.ts';
import type { ApplicationDetail } from '../types.ts';
import { Copy, Empty, ErrorBox, Field, Panel, fmtDate, useAction, useLoad } from '../ui.tsx';
import { ScepRaCertificate } from './ScepRa.tsx';

interface EnrollmentSettings {
  est: { enabled: boolean; auth: 'basic' | 'certificate' | 'both'; username: string | null; hasSecret: boolean; default: boolean; path: string };
  scep: { enabled: boolean; challenge: 'static' | 'dynamic'; hasStaticChallenge: boolean; challengeTtlSeconds: number; path: string; raCertificate: string | null };
}
interface EabKey { keyId: string; identifierPatterns: string[]; boundAccount: string | null; createdAt: string }

/** The public base URL (SPEC CERTBRIDGE_PUBLIC_URL), read from the OpenAPI document's server. */
const publicUrl = () => get<{ servers?: { url: string }[] }>('/api/v1/openapi.json').then((d) => d.servers?.[0]?.url ?? location.origin, () => location.origin);

/** 404 means "never configured": shown as everything off. */
async function loadSettings(appId: string, slug: string): Promise<EnrollmentSettings | null> {
  try {
    return await get<EnrollmentSettings>(`/api/v1/applications/${appId}/enrollment/${slug}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code === 'NOT_FOUND' && String(err.details?.['resource']) === 'enrollment settings') return null;
    throw err;
  }
}

function UrlRow({ label, url }: { label: string; url: string }) {
  return <div className="url-row"><span className="muted">{label}</span> <code className="break">{url}</code> <Copy text={url} label="Copy" /></div>;
}

function AcmeSection({ app, slug, base }: { app: ApplicationDetail; slug: string; base: string }) {
  const directory = useLoad(() => get<{ meta?: { externalAccountRequired?: boolean } }>(`/acme/${slug}/directory`), [slug]);
  const keys = useLoad(() => get<{ items: EabKey[] }>(`/api/v1/applications/${app.id}/acme/eab-keys`), [app.id]);
  const [patterns, setPatterns] = useState('');
  const [created, setCreated] = useState<{ keyId: string; hmacKey: string }>();
  const action = useAction();
  const url = `${base}/acme/${slug}/directory`;
  const required = Boolean(directory.data?.meta?.externalAccountRequired);
  const createKey = async (e: FormEvent) => {
    e.preventDefault();
    const identifierPatterns = patterns.split(/[\s,]+/).filter(Boolean);
    const key = await action.run(() => post<{ keyId: string; hmacKey: string }>(`/api/v1/applications/${app.id}/acme/eab-keys`, { identifierPatterns }));
    if (key) { setCreated(key); setPatterns(''); keys.reload(); }
  };
  return (
    <div className="enroll-section">
      <h3>ACME (RFC 8555)</h3>
      <UrlRow label="Directory" url={url} />
      <pre className="pem">{`certbot certonly --standalone --server ${url} -d app.example.com${required ? ' \\\n  --eab-kid=KID --eab-hmac-key=HMAC' : ''}`}</pre>
      <label className="check"><input type="checkbox" checked={required} disabled={action.busy || directory.loading} onChange={(e) => void action.run(() => put(`/api/v1/applications/${app.id}/acme/settings`, { eabRequired: e.target.checked })).then(directory.reload)} /> Require an external account binding (EAB) key for new accounts</label>
      {created && (
        <div className="notice notice-secret" role="status" data-testid="eab-secret">
          <strong>EAB key created. Copy the HMAC key now: it is shown only once.</strong>
          <div className="secret-row"><span className="muted">kid</span> <code className="secret">{created.keyId}</code><Copy text={created.keyId} /></div>
          <div className="secret-row"><span className="muted">HMAC</span> <code className="secret">{created.hmacKey}</code><Copy text={created.hmacKey} /></div>
          <button type="button" className="link" onClick={() => setCreated(undefined)}>I have stored it</button>
        </div>
      )}
      <form onSubmit={(e) => void createKey(e)} className="form inline-form" noValidate>
        <Field label="Identifiers this key may request (optional)" hint="DNS globs or CIDR blocks, e.g. *.corp.example 10.0.0.0/8"><input name="eab-patterns" value={patterns} onChange={(e) => setPatterns(e.target.value)} /></Field>
        <button type="submit" className="secondary" disabled={action.busy}>Create EAB key</button>
      </form>
      <ErrorBox error={action.error ?? keys.error ?? directory.error} />
      {keys.data && keys.data.items.length > 0 && (
        <table className="table"><thead><tr><th>Key id</th><th>Identifiers</th><th>Account</th><th className="hide-phone">Created</th></tr></thead>
          <tbody>{keys.data.items.map((k) => <tr key={k.keyId}><td className="mono">{k.keyId}</td><td>{k.identifierPatterns.join(', ') || 'any'}</td><td>{k.boundAccount ? 'bound' : <span className="muted">unused</span>}</td><td className="hide-phone">{fmtDate(k.createdAt)}</td></tr>)}</tbody>
        </table>
      )}
    </div>
  );
}

function EstScepSection({ app, slug, base }: { app: ApplicationDetail; slug: string; base: string }) {
  const settings = useLoad(() => loadSettings(app.id, slug), [app.id, slug]);
  const [est, setEst] = useState<{ enabled?: boolean; auth?: string; username?: string; password: string; default?: boolean }>({ password: '' });
  const [scep, setScep] = useState<{ enabled?: boolean; challenge?: string; staticChallenge: string; ttl?: string }>({ staticChallenge: '' });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [challenge, setChallenge] = useState<{ challenge: string; expiresAt: string }>();
  const save = useAction();
  const challengeAction = useAction();
  const s = settings.data;
  const estNow = { enabled: est.enabled ?? s?.est.enabled ?? false, auth: est.auth ?? s?.est.auth ?? 'basic', username: est.username ?? s?.est.username ?? app.name, default: est.default ?? s?.est.default ?? false };
  const scepNow = { enabled: scep.enabled ?? s?.scep.enabled ?? false, challenge: scep.challenge ?? s?.scep.challenge ?? 'dynamic', ttl: scep.ttl ?? String(s?.scep.challengeTtlSeconds ?? 3600) };
  const estUrl = `${base.replace(/^http:/, 'https:')}/.well-known/est/${slug}`;
  const scepUrl = `${location.protocol === 'http:' ? location.origin : base}/scep/${slug}`;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (estNow.enabled && estNow.auth !== 'certificate' && !s?.est.hasSecret && est.password.length < 12) errors['estPassword'] = 'Basic authentication needs a password of 12 characters or more.';
    if (est.password && est.password.length < 12) errors['estPassword'] = 'At least 12 characters.';
    if (estNow.enabled && estNow.auth !== 'certificate' && (!estNow.username || estNow.username.includes(':'))) errors['estUsername'] = 'A user name without ":".';
    if (scepNow.enabled && scepNow.challenge === 'static' && !s?.scep.hasStaticChallenge && scep.staticChallenge.length < 8) errors['staticChallenge'] = 'A static challenge of 8 characters or more.';
    if (scep.staticChallenge && scep.staticChallenge.length < 8) errors['staticChallenge'] = 'At least 8 characters.';
    if (!(Number(scepNow.ttl) >= 60 && Number(scepNow.ttl) <= 30 * 86400)) errors['ttl'] = '60 seconds to 30 days.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const body = {
      est: { enabled: estNow.enabled, auth: estNow.auth, default: estNow.default, ...(estNow.auth !== 'certificate' ? { username: estNow.username } : {}), ...(est.password ? { password: est.password } : {}) },
      scep: { enabled: scepNow.enabled, challenge: scepNow.challenge, challengeTtlSeconds: Number(scepNow.ttl), ...(scep.staticChallenge ? { staticChallenge: scep.staticChallenge } : {}) },
    };
    if (await save.run(() => put(`/api/v1/applications/${app.id}/enrollment/${slug}`, body))) {
      setEst({ password: '' });
      setScep({ staticChallenge: '' });
      settings.reload();
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form enroll-section">
      <h3>EST (RFC 7030)</h3>
      <label className="check"><input type="checkbox" name="est-enabled" checked={estNow.enabled} onChange={(e) => setEst({ ...est, enabled: e.target.checked })} /> Enable EST for {slug}</label>
      {estNow.enabled && <>
        <UrlRow label="Base URL (HTTPS port only)" url={estUrl} />
        <div className="grid-3">
          <Field label="Client authentication"><select name="est-auth" value={estNow.auth} onChange={(e) => setEst({ ...est, auth: e.target.value })}><option value="basic">HTTP Basic</option><option value="certificate">TLS client certificate</option><option value="both">Both</option></select></Field>
          {estNow.auth !== 'certificate' && <Field label="User name" error={invalid['estUsername']}><input name="est-username" value={estNow.username} onChange={(e) => setEst({ ...est, username: e.target.value })} /></Field>}
          {estNow.auth !== 'certificate' && <Field label="Password" error={invalid['estPassword']} hint={s?.est.hasSecret ? 'Set; type a new one to replace it.' : 'At least 12 characters.'}><input name="est-password" type="password" autoComplete="new-password" value={est.password} onChange={(e) => setEst({ ...est, password: e.target.value })} /></Field>}
        </div>
        <label className="check"><input type="checkbox" checked={estNow.default} onChange={(e) => setEst({ ...est, default: e.target.checked })} /> Serve <code>/.well-known/est/</code> without a label too</label>
      </>}
      <h3>SCEP (RFC 8894)</h3>
      <label className="check"><input type="checkbox" name="scep-enabled" checked={scepNow.enabled} onChange={(e) => setScep({ ...scep, enabled: e.target.checked })} /> Enable SCEP for {slug}</label>
      {scepNow.enabled && <>
        <UrlRow label="URL" url={scepUrl} />
        <div className="grid-3">
          <Field label="Challenge password"><select name="scep-challenge" value={scepNow.challenge} onChange={(e) => setScep({ ...scep, challenge: e.target.value })}><option value="dynamic">One-time challenges</option><option value="static">One static challenge</option></select></Field>
          {scepNow.challenge === 'static'
            ? <Field label="Static challenge" error={invalid['staticChallenge']} hint={s?.scep.hasStaticChallenge ? 'Set; type a new one to replace it.' : 'At least 8 characters.'}><input name="scep-static" type="password" autoComplete="new-password" value={scep.staticChallenge} onChange={(e) => setScep({ ...scep, staticChallenge: e.target.value })} /></Field>
            : <Field label="One-time challenge lifetime (seconds)" error={invalid['ttl']}><input name="scep-ttl" inputMode="numeric" value={scepNow.ttl} onChange={(e) => setScep({ ...scep, ttl: e.target.value })} /></Field>}
        </div>
        {s?.scep.enabled && s.scep.challenge === 'dynamic' && (
          <div className="button-row">
            <button type="button" className="secondary" disabled={challengeAction.busy} onClick={() => void challengeAction.run(() => post<{ challenge: string; expiresAt: string }>(`/api/v1/applications/${app.id}/enrollment/${slug}/scep/challenges`)).then((c) => c && setChallenge(c))}>New one-time challenge</button>
          </div>
        )}
        {s?.scep.enabled && s.scep.raCertificate && <ScepRaCertificate appId={app.id} slug={slug} pem={s.scep.raCertificate} onRotated={settings.reload} />}
        {challenge && <div className="notice notice-secret" role="status"><strong>Challenge (shown once, valid once, until {fmtDate(challenge.expiresAt)}):</strong><div className="secret-row"><code className="secret">{challenge.challenge}</code><Copy text={challenge.challenge} /></div></div>}
        <ErrorBox error={challengeAction.error} />
      </>}
      <ErrorBox error={save.error ?? settings.error} />
      <button type="submit" disabled={save.busy || settings.loading}>Save EST and SCEP settings</button>
    </form>
  );
}

/** Enrollment methods of an application, per profile: API, ACME (EAB), EST (credentials), SCEP (challenges). */
export function EnrollmentPanel({ app, manage }: { app: ApplicationDetail; manage: boolean }) {
  const [slug, setSlug] = useState(app.profiles[0]?.slug ?? '');
  const base = useLoad(publicUrl, []);
  const apiUrl = `${location.origin}/api/v1/applications/${app.name}/certificates`;
  return (
    <Panel title="Enrollment methods">
      {app.profiles.length === 0 ? <Empty title="Attach a profile first.">Each enrollment method serves one profile of the application.</Empty> : <>
        <div className="filters">
          <label className="field-label" htmlFor="enroll-profile">Profile</label>
          <select id="enroll-profile" value={slug} onChange={(e) => setSlug(e.target.value)}>{app.profiles.map((p) => <option key={p.id} value={p.slug}>{p.slug}</option>)}</select>
        </div>
        <div className="enroll-section">
          <h3>API</h3>
          <UrlRow label="POST" url={apiUrl} />
          <pre className="pem">{`curl -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\\n  -d '{"profile":"${slug}","subject":{"commonName":"app.example.com"},"sans":["dns:app.example.com"]}' \\\n  ${apiUrl}`}</pre>
          <p className="muted">Create the token under <Link to="/tokens">API tokens</Link>.</p>
        </div>
        {base.data && (manage
          ? <><AcmeSection key={`acme-${slug}`} app={app} slug={slug} base={base.data} /><EstScepSection key={`est-${slug}`} app={app} slug={slug} base={base.data} /></>
          : <div className="enroll-section"><h3>ACME</h3><UrlRow label="Directory" url={`${base.data}/acme/${slug}/directory`} /><p className="muted">EST and SCEP settings are managed by the application's owners.</p></div>)}
      </>}
    </Panel>
  );
}
