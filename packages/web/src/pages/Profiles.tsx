import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { get, patch, post } from '../api.ts';
import { abilities, useAuth } from '../auth.tsx';
import type { Ca, Policy, Profile, Template } from '../types.ts';
import { EKUS, KEY_ALGORITHMS, KEY_USAGES } from '../types.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader, Panel, Status, useAction, useLoad } from '../ui.tsx';

function toggle(list: string[], value: string, on: boolean): string[] {
  return on ? [...list.filter((v) => v !== value), value] : list.filter((v) => v !== value);
}

/** A profile = a CA + a policy + defaults (+ an ADCS template picked from live discovery). */
function ProfileForm({ profile, cas, policies, onDone }: { profile?: Profile; cas: Ca[]; policies: Policy[]; onDone: () => void }) {
  const d = profile?.defaults ?? {};
  const [f, setF] = useState({
    slug: profile?.slug ?? '', name: profile?.name ?? '', ca: profile?.caId ?? cas[0]?.id ?? '', policy: profile?.policyId ?? policies[0]?.id ?? '',
    template: profile?.template ?? '', pendingLifetimeDays: profile?.pendingLifetimeDays ? String(profile.pendingLifetimeDays) : '',
    validityDays: String(d.validityDays ?? 90), keyAlgorithm: d.keyAlgorithm ?? 'EC-P256',
  });
  const [keyUsages, setKeyUsages] = useState<string[]>(d.keyUsages ?? ['digitalSignature', 'keyEncipherment']);
  const [ekus, setEkus] = useState<string[]>(d.extendedKeyUsages ?? ['serverAuth', 'clientAuth']);
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  const ca = cas.find((c) => c.id === f.ca);
  // An ADCS CA reached through an on-prem connector picks templates the same way (the connector discovers them).
  const isAdcs = ca?.type === 'adcs' || ca?.type === 'connector';
  const { me } = useAuth();
  const [refresh, setRefresh] = useState(0);
  const templates = useLoad(async () => (isAdcs ? (await get<{ items: Template[] }>(`/api/v1/cas/${f.ca}/templates${refresh ? '?refresh=true' : ''}`)).items : []), [f.ca, isAdcs, refresh]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!profile && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(f.slug)) errors['slug'] = 'Lower-case letters, digits and dashes, up to 63 (used in ACME, EST and SCEP URLs).';
    if (!f.ca) errors['ca'] = 'Choose a CA.';
    if (!f.policy) errors['policy'] = 'Choose a policy.';
    if (!(Number.isInteger(Number(f.validityDays)) && Number(f.validityDays) >= 1)) errors['validityDays'] = 'Whole days, 1 or more.';
    if (isAdcs && !f.template) errors['template'] = 'ADCS needs a certificate template.';
    if (f.pendingLifetimeDays && !(Number(f.pendingLifetimeDays) >= 1)) errors['pendingLifetimeDays'] = '1 day or more.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const body = {
      ...(f.name ? { name: f.name } : {}), ca: f.ca, policy: f.policy,
      defaults: { validityDays: Number(f.validityDays), keyAlgorithm: f.keyAlgorithm, keyUsages, extendedKeyUsages: ekus },
      ...(isAdcs ? { template: f.template, ...(f.pendingLifetimeDays ? { pendingLifetimeDays: Number(f.pendingLifetimeDays) } : {}) } : profile?.template ? { template: null } : {}),
    };
    if (await action.run(() => (profile ? patch(`/api/v1/profiles/${profile.id}`, body) : post('/api/v1/profiles', { slug: f.slug, ...body })))) onDone();
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form">
      <div className="grid-2">
        <Field label="Slug" error={invalid['slug']} hint="Appears in enrollment URLs: /acme/{slug}/directory."><input name="profile-slug" value={f.slug} disabled={Boolean(profile)} onChange={(e) => setF({ ...f, slug: e.target.value })} /></Field>
        <Field label="Display name"><input name="profile-name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} /></Field>
        <Field label="CA" error={invalid['ca']}><select name="profile-ca" value={f.ca} onChange={(e) => setF({ ...f, ca: e.target.value, template: '' })}>{cas.map((c) => <option key={c.id} value={c.id}>{c.name}{c.type === 'adcs' ? ' (ADCS)' : ''}</option>)}</select></Field>
        <Field label="Policy" error={invalid['policy']}><select name="profile-policy" value={f.policy} onChange={(e) => setF({ ...f, policy: e.target.value })}>{policies.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}</select></Field>
        {isAdcs && <>
          <Field label="ADCS template" error={invalid['template']} hint={<>{templates.loading ? 'Asking the CA’s servers…' : templates.data?.length === 0 ? 'No templates known yet.' : 'From the last discovery on the CA’s servers.'}{abilities(me?.role).manageCas && !templates.loading && <> <button type="button" className="link" onClick={() => setRefresh(refresh + 1)}>Refresh from ADCS</button></>}</>}>
            <select name="profile-template" value={f.template} onChange={(e) => setF({ ...f, template: e.target.value })}>
              <option value="">Choose…</option>
              {templates.data?.map((t) => <option key={t.name} value={t.name}>{t.displayName || t.name} ({t.name})</option>)}
              {f.template && !templates.data?.some((t) => t.name === f.template) && <option value={f.template}>{f.template} (not offered now)</option>}
            </select>
          </Field>
          <Field label="Pending lifetime (days)" error={invalid['pendingLifetimeDays']} hint="How long an order may wait for a CA manager before it fails."><input name="profile-pending" inputMode="numeric" value={f.pendingLifetimeDays} onChange={(e) => setF({ ...f, pendingLifetimeDays: e.target.value })} /></Field>
        </>}
        <Field label="Default validity (days)" error={invalid['validityDays']}><input name="profile-validity" inputMode="numeric" value={f.validityDays} onChange={(e) => setF({ ...f, validityDays: e.target.value })} /></Field>
        <Field label="Default key algorithm"><select name="profile-key" value={f.keyAlgorithm} onChange={(e) => setF({ ...f, keyAlgorithm: e.target.value })}>{KEY_ALGORITHMS.map((k) => <option key={k}>{k}</option>)}</select></Field>
        <Field label="Key usages"><div className="checks">{KEY_USAGES.map((k) => <label key={k} className="check"><input type="checkbox" checked={keyUsages.includes(k)} onChange={(e) => setKeyUsages(toggle(keyUsages, k, e.target.checked))} /> {k}</label>)}</div></Field>
        <Field label="Extended key usages"><div className="checks">{EKUS.map((k) => <label key={k} className="check"><input type="checkbox" checked={ekus.includes(k)} onChange={(e) => setEkus(toggle(ekus, k, e.target.checked))} /> {k}</label>)}</div></Field>
      </div>
      <ErrorBox error={action.error ?? templates.error} />
      <button type="submit" disabled={action.busy}>{profile ? 'Save profile' : 'Create profile'}</button>
    </form>
  );
}

export function ProfilesPage() {
  const { me } = useAuth();
  const can = abilities(me?.role);
  const profiles = useLoad(() => get<{ items: Profile[] }>('/api/v1/profiles'), []);
  const cas = useLoad(() => get<{ items: Ca[] }>('/api/v1/cas'), []);
  const policies = useLoad(() => get<{ items: Policy[] }>('/api/v1/policies'), []);
  const [editing, setEditing] = useState<Profile | 'new'>();
  const name = (list: { id: string; name: string }[] | undefined, id: string) => list?.find((x) => x.id === id)?.name ?? id.slice(0, 8);
  const ready = cas.data && policies.data;
  return (
    <>
      <PageHeader title="Profiles">{can.manageCatalog && <button type="button" onClick={() => setEditing('new')} disabled={!ready}>New profile</button>}</PageHeader>
      {editing && ready && (
        <Panel title={editing === 'new' ? 'New profile' : `Edit ${editing.slug}`} onClose={() => setEditing(undefined)}>
          {policies.data!.items.length === 0 ? <Empty title="Create a policy first."><Link to="/policies">Policies</Link></Empty>
            : <ProfileForm key={editing === 'new' ? 'new' : editing.id} {...(editing === 'new' ? {} : { profile: editing })} cas={cas.data!.items.filter((c) => c.status === 'active')} policies={policies.data!.items} onDone={() => { setEditing(undefined); profiles.reload(); }} />}
        </Panel>
      )}
      <ErrorBox error={profiles.error ?? cas.error ?? policies.error} />
      {profiles.loading && !profiles.data ? <Loading /> : profiles.data && profiles.data.items.length === 0 ? <Empty title="No profiles.">A profile ties a CA to a policy and defaults; attach it to an application to issue.</Empty> : (
        <div className="table-wrap">
          <table className="table" data-testid="profiles-table">
            <thead><tr><th>Slug</th><th>CA</th><th>Policy</th><th className="hide-phone">Template</th><th className="hide-phone">Defaults</th><th>State</th><th /></tr></thead>
            <tbody>{profiles.data?.items.map((p) => (
              <tr key={p.id}>
                <td>{p.slug}{p.name && p.name !== p.slug ? <div className="muted">{p.name}</div> : null}</td>
                <td>{name(cas.data?.items, p.caId)}</td><td>{name(policies.data?.items, p.policyId)}</td>
                <td className="hide-phone">{p.template ?? '—'}</td>
                <td className="hide-phone">{p.defaults.validityDays ?? 90} d · {p.defaults.keyAlgorithm ?? 'EC-P256'} · {(p.defaults.extendedKeyUsages ?? []).join(', ')}</td>
                <td>{p.broken ? <><Status value="broken" /><div className="muted">{p.brokenReason}</div></> : <Status value="ready" />}</td>
                <td className="row-actions">{can.manageCatalog && <button type="button" className="secondary small" onClick={() => setEditing(p)}>Edit</button>}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </>
  );
}
