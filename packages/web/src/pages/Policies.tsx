import { useState, type FormEvent } from 'react';
import { get, patch, post } from '../api.ts';
import { abilities, useAuth } from '../auth.tsx';
import type { Policy } from '../types.ts';
import { KEY_ALGORITHMS } from '../types.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader, Panel, fmtDate, useAction, useLoad } from '../ui.tsx';

const SAN_TYPES = ['dns', 'ip', 'email', 'uri', 'upn'] as const;
type Rules = Record<string, unknown> & {
  sans?: { allowedTypes?: string[]; patterns?: Record<string, string[]>; maxCount?: number };
  subject?: { requiredAttributes?: string[] };
  keyAlgorithms?: string[]; maxValidityDays?: number;
};
const lines = (v: string) => v.split('\n').map((l) => l.trim()).filter(Boolean);

/** Policy editor: common rules as fields, everything (value patterns, denials, usages) in the JSON below. */
function PolicyForm({ policy, onDone }: { policy?: Policy; onDone: () => void }) {
  const [name, setName] = useState(policy?.name ?? '');
  const [description, setDescription] = useState(policy?.description ?? '');
  const [rules, setRules] = useState<Rules>((policy?.rules as Rules) ?? { sans: { allowedTypes: ['dns', 'ip'], patterns: { dns: ['*.example.com'] } }, maxValidityDays: 397 });
  const [json, setJson] = useState(JSON.stringify(rules, null, 2));
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  const update = (next: Rules) => { setRules(next); setJson(JSON.stringify(next, null, 2)); };
  const sans = rules.sans ?? {};
  const allowedTypes = sans.allowedTypes ?? [...SAN_TYPES];
  const algorithms = rules.keyAlgorithms ?? [...KEY_ALGORITHMS];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!policy && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) errors['name'] = 'Lower-case letters, digits and dashes, up to 63.';
    let parsed: Rules | undefined;
    try { parsed = JSON.parse(json) as Rules; if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object'); } catch (err) { errors['json'] = `The rules are not a JSON object: ${err instanceof Error ? err.message : String(err)}`; }
    if (parsed?.keyAlgorithms && parsed.keyAlgorithms.length === 0) errors['keyAlgorithms'] = 'Allow at least one key algorithm.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const ok = await action.run(() => (policy ? patch(`/api/v1/policies/${policy.id}`, { description, rules: parsed }) : post('/api/v1/policies', { name, description, rules: parsed })));
    if (ok) onDone();
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form">
      <div className="grid-2">
        <Field label="Name" error={invalid['name']}><input name="policy-name" value={name} disabled={Boolean(policy)} onChange={(e) => setName(e.target.value)} /></Field>
        <Field label="Description"><input name="policy-description" value={description} onChange={(e) => setDescription(e.target.value)} /></Field>
      </div>
      <div className="grid-2">
        <Field label="Allowed SAN types">
          <div className="checks">{SAN_TYPES.map((t) => (
            <label key={t} className="check"><input type="checkbox" checked={allowedTypes.includes(t)} onChange={(e) => update({ ...rules, sans: { ...sans, allowedTypes: e.target.checked ? [...allowedTypes, t] : allowedTypes.filter((x) => x !== t) } })} /> {t}</label>
          ))}</div>
        </Field>
        <Field label="Key algorithms" error={invalid['keyAlgorithms']}>
          <div className="checks">{KEY_ALGORITHMS.map((k) => (
            <label key={k} className="check"><input type="checkbox" checked={algorithms.includes(k)} onChange={(e) => update({ ...rules, keyAlgorithms: e.target.checked ? [...algorithms, k] : algorithms.filter((x) => x !== k) })} /> {k}</label>
          ))}</div>
        </Field>
        <Field label="DNS name patterns" hint="One per line. * matches within one label, a leading **. any depth. Empty: any name.">
          <textarea rows={3} name="dns-patterns" value={(sans.patterns?.['dns'] ?? []).join('\n')} onChange={(e) => update({ ...rules, sans: { ...sans, patterns: { ...sans.patterns, dns: lines(e.target.value) } } })} />
        </Field>
        <Field label="IP address blocks" hint="CIDR blocks, one per line. Empty: any address.">
          <textarea rows={3} name="ip-patterns" value={(sans.patterns?.['ip'] ?? []).join('\n')} onChange={(e) => update({ ...rules, sans: { ...sans, patterns: { ...sans.patterns, ip: lines(e.target.value) } } })} />
        </Field>
        <Field label="Required subject attributes" hint="Short names, comma-separated (e.g. CN, O).">
          <input name="required-attributes" value={(rules.subject?.requiredAttributes ?? []).join(', ')} onChange={(e) => update({ ...rules, subject: { ...rules.subject, requiredAttributes: e.target.value.split(',').map((s) => s.trim()).filter(Boolean) } })} />
        </Field>
        <Field label="Maximum validity (days)">
          <input name="max-validity" inputMode="numeric" value={rules.maxValidityDays ?? ''} onChange={(e) => update({ ...rules, maxValidityDays: e.target.value ? Number(e.target.value) : undefined as unknown as number })} />
        </Field>
      </div>
      <Field label="All rules (JSON)" error={invalid['json']} hint="Also: subject.allowedAttributes, deniedAttributes, valuePatterns; sans.requiredTypes, deniedPatterns, maxCount; keyUsages; extendedKeyUsages.">
        <textarea rows={10} className="mono" name="rules-json" value={json} onChange={(e) => { setJson(e.target.value); try { setRules(JSON.parse(e.target.value) as Rules); } catch { /* shown on submit */ } }} />
      </Field>
      <ErrorBox error={action.error} />
      <button type="submit" disabled={action.busy}>{policy ? 'Save policy' : 'Create policy'}</button>
    </form>
  );
}

export function PoliciesPage() {
  const { me } = useAuth();
  const can = abilities(me?.role);
  const policies = useLoad(() => get<{ items: Policy[] }>('/api/v1/policies'), []);
  const [editing, setEditing] = useState<Policy | 'new'>();
  const done = () => { setEditing(undefined); policies.reload(); };
  return (
    <>
      <PageHeader title="Policies">{can.manageCatalog && <button type="button" onClick={() => setEditing('new')}>New policy</button>}</PageHeader>
      <p className="muted">A policy says what a request may contain. Every violation is listed in one POLICY_VIOLATION answer.</p>
      {editing && <Panel title={editing === 'new' ? 'New policy' : `Edit ${editing.name}`} onClose={() => setEditing(undefined)}><PolicyForm key={editing === 'new' ? 'new' : editing.id} {...(editing === 'new' ? {} : { policy: editing })} onDone={done} /></Panel>}
      <ErrorBox error={policies.error} />
      {policies.loading && !policies.data ? <Loading /> : policies.data && policies.data.items.length === 0 ? <Empty title="No policies.">Create one, then use it in a profile.</Empty> : (
        <div className="table-wrap">
          <table className="table" data-testid="policies-table">
            <thead><tr><th>Name</th><th>Description</th><th className="hide-phone">Max validity</th><th className="hide-phone">Updated</th><th /></tr></thead>
            <tbody>{policies.data?.items.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td><td>{p.description || <span className="muted">—</span>}</td>
                <td className="hide-phone">{typeof p.rules['maxValidityDays'] === 'number' ? `${p.rules['maxValidityDays']} days` : 'default (397 days)'}</td>
                <td className="hide-phone">{fmtDate(p.updatedAt)}</td>
                <td className="row-actions">{can.manageCatalog && <button type="button" className="secondary small" onClick={() => setEditing(p)}>Edit</button>}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </>
  );
}
