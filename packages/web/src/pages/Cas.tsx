import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { get, patch, post } from '../api.ts';
import { abilities, useAuth } from '../auth.tsx';
import type { Ca } from '../types.ts';
import { KEY_ALGORITHMS } from '../types.ts';
import { parseCertificate } from '../x509.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader, Panel, Status, commonName, fmtDay, useAction, useLoad } from '../ui.tsx';
import { CA_NAME, CA_NAME_HINT, caKind, isAdcsLike } from './ca-common.ts';
import { AdcsServers, AdcsSubordinate, AdcsTemplates, CreateAdcsCa } from './CasAdcs.tsx';
import { ConnectorPool, ConnectorServers, CreateConnectorCa } from './CasConnector.tsx';

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

export function CasPage() {
  const { me } = useAuth();
  const can = abilities(me?.role);
  const navigate = useNavigate();
  const cas = useLoad(() => get<{ items: Ca[] }>('/api/v1/cas'), []);
  const [form, setForm] = useState<'' | 'create' | 'import' | 'adcs' | 'connector'>('');
  const parentName = (id: string | null) => (id ? cas.data?.items.find((c) => c.id === id)?.name ?? '' : '');
  return (
    <>
      <PageHeader title="Certificate authorities">
        {can.manageCas && <>
          <button type="button" onClick={() => setForm('create')}>Create CA</button>
          <button type="button" className="secondary" onClick={() => setForm('import')}>Import</button>
          <button type="button" className="secondary" onClick={() => setForm('adcs')}>Add ADCS CA</button>
          <button type="button" className="secondary" onClick={() => setForm('connector')}>Add CA via connector</button>
        </>}
      </PageHeader>
      {form === 'create' && cas.data && <Panel title="Create an internal CA" onClose={() => setForm('')}><CreateInternalCa cas={cas.data.items} onDone={(ca) => navigate(`/cas/${ca.id}`)} /></Panel>}
      {form === 'import' && <Panel title="Import a CA certificate and key" onClose={() => setForm('')}><ImportCa onDone={(ca) => navigate(`/cas/${ca.id}`)} /></Panel>}
      {form === 'adcs' && <Panel title="Add an ADCS CA" onClose={() => setForm('')}><CreateAdcsCa onDone={(ca) => navigate(`/cas/${ca.id}`)} /></Panel>}
      {form === 'connector' && <Panel title="Add an ADCS CA reached through on-prem connectors" onClose={() => setForm('')}><CreateConnectorCa onDone={(id) => navigate(`/cas/${id}`)} /></Panel>}
      <ErrorBox error={cas.error} />
      {cas.loading && !cas.data ? <Loading /> : cas.data && cas.data.items.length === 0 ? <Empty title="No CAs.">Create a root CA, import one, or add an ADCS CA (directly or through an on-prem connector).</Empty> : (
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
                <td className="hide-phone">{isAdcsLike(c) ? '—' : c.ocspSigning === 'delegated' ? 'Delegated responder' : 'CA key'}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </>
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
            <dt>Type</dt><dd>{isAdcsLike(c) ? caKind(c) : `Internal ${caKind(c).toLowerCase()}`}</dd>
            {!isAdcsLike(c) && c.certificate && <><dt>Issuer</dt><dd>{(() => { try { return parseCertificate(c.certificate).issuer; } catch { return '—'; } })()}</dd></>}
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
            {!isAdcsLike(c) && <a className="button secondary" href={`/crl/${c.id}.crl`} download>CRL</a>}
          </div>
          {!isAdcsLike(c) && <p className="muted">Relying parties find <code>/ca/{c.id.slice(0, 8)}….crt</code>, <code>/crl/…</code> and <code>/ocsp/…</code> through the AIA and CRL distribution point of issued certificates.</p>}
          {can.manageCas && (
            <div className="form">
              {!isAdcsLike(c) && (
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
      {c.type === 'connector' && <><ConnectorPool ca={c} manage={can.manageCas} onSaved={ca.reload} /><ConnectorServers ca={c} /><AdcsTemplates ca={c} manage={can.manageCas} /></>}
      {c.certificate && <details className="panel"><summary>CA certificate ({commonName(c.subject ?? c.name)})</summary><pre className="pem">{c.certificate}</pre></details>}
    </>
  );
}
