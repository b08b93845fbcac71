import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { api, get } from '../api.ts';
import type { Application, ApplicationDetail, IssueResult, Order } from '../types.ts';
import { KEY_ALGORITHMS } from '../types.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader, Panel, Status, useAction, useLoad } from '../ui.tsx';

/** `dns:a.example`, or a bare value typed by what it looks like. */
export function parseSanLine(line: string): string {
  const value = line.trim();
  if (/^(dns|ip|email|uri|upn):/i.test(value)) return value.replace(/^(\w+):/, (_, t: string) => `${t.toLowerCase()}:`);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(value) || /^[0-9a-f:]+:[0-9a-f:]*$/i.test(value)) return `ip:${value}`;
  if (value.includes('@')) return `email:${value}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return `uri:${value}`;
  return `dns:${value}`;
}

function validate(mode: string, f: Record<string, string>): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!f['application']) errors['application'] = 'Choose an application.';
  if (!f['profile']) errors['profile'] = 'Choose a profile.';
  if (mode === 'csr') {
    if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----[\s\S]+-----END (NEW )?CERTIFICATE REQUEST-----/.test(f['csr'] ?? '')) errors['csr'] = 'Paste a PEM CSR (-----BEGIN CERTIFICATE REQUEST-----).';
  } else {
    if (!f['cn']?.trim()) errors['cn'] = 'A common name is required.';
    if (f['c'] && !/^[A-Za-z]{2}$/.test(f['c'])) errors['c'] = 'Two letters (ISO 3166), e.g. DE.';
    for (const line of (f['sans'] ?? '').split('\n').filter((l) => l.trim())) {
      const san = parseSanLine(line);
      if (/^dns:/.test(san) && !/^dns:(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?$/i.test(san)) errors['sans'] = `"${line.trim()}" is not a DNS name.`;
    }
  }
  if (f['validity'] && !(Number.isInteger(Number(f['validity'])) && Number(f['validity']) >= 1)) errors['validity'] = 'Whole days, 1 or more.';
  return errors;
}

/** Follows a pending order until the CA answers (the server polls ADCS in the background). */
function PendingOrder({ order: initial }: { order: Order }) {
  const navigate = useNavigate();
  const [order, setOrder] = useState(initial);
  useEffect(() => {
    if (order.status !== 'pending') {
      if (order.status === 'issued' && order.certificateId) navigate(`/certificates/${order.certificateId}`);
      return;
    }
    const timer = setTimeout(() => void get<Order>(`/api/v1/orders/${order.id}`).then(setOrder, () => {}), 3000);
    return () => clearTimeout(timer);
  }, [order, navigate]);
  return (
    <div className="notice" role="status">
      <Status value={order.status} /> Order <code>{order.id.slice(0, 8)}</code>{order.caRequestId ? <> · ADCS request {order.caRequestId}</> : null}
      {order.status === 'pending' && <> · waiting for the CA (a CA manager may need to approve it) <span className="spinner" /></>}
      {order.disposition && <div className="muted">{order.disposition}</div>}
      <div><Link to="/orders">See all orders</Link></div>
    </div>
  );
}

export function IssuePage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [mode, setMode] = useState<'keygen' | 'csr'>('keygen');
  const [f, setF] = useState<Record<string, string>>({ application: params.get('application') ?? '', profile: '', cn: '', o: '', ou: '', c: '', sans: '', keyAlgorithm: '', validity: '', csr: '' });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [pending, setPending] = useState<Order>();
  const action = useAction();
  const set = (key: string) => (e: { target: { value: string } }) => setF((prev) => ({ ...prev, [key]: e.target.value }));

  const apps = useLoad(() => get<{ items: Application[] }>('/api/v1/applications'), []);
  useEffect(() => {
    const first = apps.data?.items.find((a) => a.name === 'default') ?? apps.data?.items[0];
    if (!f['application'] && first) setF((prev) => ({ ...prev, application: first.id }));
  }, [apps.data, f]);
  const app = useLoad(async () => (f['application'] ? get<ApplicationDetail>(`/api/v1/applications/${f['application']}`) : undefined), [f['application']]);
  useEffect(() => {
    const profiles = app.data?.profiles ?? [];
    if (profiles.length && !profiles.some((p) => p.id === f['profile'])) setF((prev) => ({ ...prev, profile: profiles[0]!.id }));
  }, [app.data, f]);
  const profile = app.data?.profiles.find((p) => p.id === f['profile']);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors = validate(mode, f);
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const validity = f['validity'] ? { validityDays: Number(f['validity']) } : {};
    const body = mode === 'csr'
      ? { profile: profile!.slug, csr: f['csr']!.trim(), ...validity }
      : {
        profile: profile!.slug,
        subject: Object.fromEntries([['commonName', f['cn']!.trim()], ['organization', f['o']!.trim()], ['organizationalUnit', f['ou']!.trim()], ['country', f['c']!.trim().toUpperCase()]].filter(([, v]) => v)),
        sans: f['sans']!.split('\n').filter((l) => l.trim()).map(parseSanLine),
        ...(f['keyAlgorithm'] ? { keyAlgorithm: f['keyAlgorithm'] } : {}), ...validity,
      };
    const result = await action.run(() => api<IssueResult>('POST', `/api/v1/applications/${f['application']}/certificates`, body));
    if (result?.certificate) navigate(`/certificates/${result.certificate.id}`);
    else if (result) setPending(result.order);
  };

  if (apps.loading && !apps.data) return <Loading />;
  if (apps.data && apps.data.items.length === 0) {
    return <><PageHeader title="Issue certificate" /><ErrorBox error={apps.error} /><Empty title="You are not a member of any application.">Ask an administrator to add you to an application, or <Link to="/applications">create one</Link>.</Empty></>;
  }
  return (
    <>
      <PageHeader title="Issue certificate" />
      <ErrorBox error={apps.error ?? app.error} />
      <Panel title="Request">
        <form onSubmit={(e) => void submit(e)} noValidate className="form">
          <div className="grid-2">
            <Field label="Application" error={invalid['application']}>
              <select name="application" value={f['application']} onChange={set('application')}>
                {apps.data?.items.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
              </select>
            </Field>
            <Field label="Profile" error={invalid['profile']} hint={profile ? `Defaults: ${profile.defaults.validityDays ?? 90} days, ${profile.defaults.keyAlgorithm ?? 'EC-P256'}${profile.template ? `, ADCS template ${profile.template}` : ''}` : undefined}>
              <select name="profile" value={f['profile']} onChange={set('profile')}>
                {app.data?.profiles.map((p) => <option key={p.id} value={p.id} disabled={p.broken}>{p.slug}{p.name && p.name !== p.slug ? ` — ${p.name}` : ''}{p.broken ? ' (broken)' : ''}</option>)}
              </select>
            </Field>
          </div>
          {app.data && app.data.profiles.length === 0 && <Empty title="This application has no profile.">Attach one on the <Link to={`/applications/${app.data.id}`}>application page</Link>.</Empty>}
          <fieldset className="segmented">
            <legend>Key</legend>
            <label><input type="radio" name="mode" checked={mode === 'keygen'} onChange={() => setMode('keygen')} /> Generate the key on the server</label>
            <label><input type="radio" name="mode" checked={mode === 'csr'} onChange={() => setMode('csr')} /> Paste a CSR</label>
          </fieldset>
          {mode === 'csr' ? (
            <Field label="CSR (PEM)" error={invalid['csr']} hint="The subject and SANs come from the CSR; the profile's policy decides what is allowed.">
              <textarea name="csr" rows={10} className="mono" value={f['csr']} onChange={set('csr')} placeholder="-----BEGIN CERTIFICATE REQUEST-----" />
            </Field>
          ) : (
            <>
              <div className="grid-2">
                <Field label="Common name (CN)" error={invalid['cn']}><input name="cn" value={f['cn']} onChange={set('cn')} placeholder="app.example.com" /></Field>
                <Field label="Organization (O)"><input name="o" value={f['o']} onChange={set('o')} /></Field>
                <Field label="Organizational unit (OU)"><input name="ou" value={f['ou']} onChange={set('ou')} /></Field>
                <Field label="Country (C)" error={invalid['c']}><input name="c" value={f['c']} onChange={set('c')} maxLength={2} /></Field>
              </div>
              <Field label="Subject alternative names" error={invalid['sans']} hint="One per line: a host name, an IP address, an e-mail address, or type:value (dns, ip, email, uri, upn).">
                <textarea name="sans" rows={4} value={f['sans']} onChange={set('sans')} placeholder={'app.example.com\nwww.app.example.com\n10.0.0.7'} />
              </Field>
            </>
          )}
          <div className="grid-2">
            {mode === 'keygen' && (
              <Field label="Key algorithm" hint="The key is sealed on the server; download it as PKCS#12 afterwards.">
                <select name="keyAlgorithm" value={f['keyAlgorithm']} onChange={set('keyAlgorithm')}>
                  <option value="">Profile default ({profile?.defaults.keyAlgorithm ?? 'EC-P256'})</option>
                  {KEY_ALGORITHMS.map((k) => <option key={k} value={k}>{k}</option>)}
                </select>
              </Field>
            )}
            <Field label="Validity (days)" error={invalid['validity']} hint="Empty: the profile default. The policy caps it.">
              <input name="validity" inputMode="numeric" value={f['validity']} onChange={set('validity')} />
            </Field>
          </div>
          <ErrorBox error={action.error} />
          {action.busy && <div className="notice" role="status"><span className="spinner" /> Asking the CA… An ADCS CA that pends the request is asked again for up to a minute before the order is left pending.</div>}
          {pending ? <PendingOrder order={pending} /> : null}
          <button type="submit" disabled={action.busy || !profile}>{action.busy ? 'Issuing…' : 'Issue certificate'}</button>
        </form>
      </Panel>
    </>
  );
}
