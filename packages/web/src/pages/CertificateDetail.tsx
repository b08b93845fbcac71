import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { get, post, request, saveResponse } from '../api.ts';
import type { Certificate, IssueResult } from '../types.ts';
import { REVOCATION_REASONS } from '../types.ts';
import { Copy, ErrorBox, Field, Loading, PageHeader, Panel, Status, commonName, daysUntil, fmtDate, sanText, useAction, useLoad } from '../ui.tsx';
import { fingerprint, parseCertificate, pemToDer, type ParsedCertificate } from '../x509.ts';

function safeParse(pem: string): ParsedCertificate | null {
  try { return parseCertificate(pem); } catch { return null; }
}

function Pkcs12Form({ cert }: { cert: Certificate }) {
  const [password, setPassword] = useState('');
  const [invalid, setInvalid] = useState<string>();
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    if (password.length < 8) { setInvalid('At least 8 characters: the file holds the private key.'); return; }
    setInvalid(undefined);
    const res = await action.run(() => request('POST', `/api/v1/certificates/${cert.id}/download`, { password }));
    if (res) { await saveResponse(res, `${commonName(cert.subject)}.p12`); setSaved(true); setPassword(''); }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form inline-form">
      <Field label="PKCS#12 password" error={invalid} hint="Protects the private key inside the file.">
        <input name="p12-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      </Field>
      <button type="submit" disabled={action.busy}>Download PKCS#12</button>
      <ErrorBox error={action.error} />
      {saved && <div className="notice" role="status">PKCS#12 downloaded.</div>}
    </form>
  );
}

function RevokeForm({ cert, onDone }: { cert: Certificate; onDone: () => void }) {
  const [reason, setReason] = useState<string>('unspecified');
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!confirming) { setConfirming(true); return; }
    const done = await action.run(() => post(`/api/v1/certificates/${cert.id}/revoke`, { reason }));
    if (done) onDone();
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="form inline-form">
      <Field label="Reason (RFC 5280)">
        <select name="reason" value={reason} onChange={(e) => { setReason(e.target.value); setConfirming(false); }}>
          {REVOCATION_REASONS.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
      </Field>
      <button type="submit" className="danger" disabled={action.busy}>{confirming ? 'Confirm: revoke now' : 'Revoke…'}</button>
      {confirming && <span className="muted">Relying parties will reject it once they fetch the CRL or ask OCSP. This cannot be undone.</span>}
      <ErrorBox error={action.error} />
    </form>
  );
}

export function CertificateDetailPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const cert = useLoad(() => get<Certificate>(`/api/v1/certificates/${id}`), [id]);
  const [sha1, setSha1] = useState<string | null>(null);
  const renew = useAction();
  const [renewed, setRenewed] = useState<IssueResult>();

  useEffect(() => {
    if (cert.data) void fingerprint(pemToDer(cert.data.certificate), 'SHA-1').then(setSha1);
  }, [cert.data]);

  if (cert.error) return <><PageHeader title="Certificate" /><ErrorBox error={cert.error} /><Link to="/certificates">Back to the inventory</Link></>;
  if (!cert.data) return <Loading />;
  const c = cert.data;
  const parsed = safeParse(c.certificate);
  const chain = c.chain.map((pem) => ({ pem, parsed: safeParse(pem) }));
  const doRenew = async () => {
    const result = await renew.run(() => post<IssueResult>(`/api/v1/certificates/${c.id}/renew`, {}));
    if (result?.certificate) navigate(`/certificates/${result.certificate.id}`);
    else if (result) setRenewed(result);
  };

  return (
    <>
      <PageHeader title={commonName(c.subject)}>
        <Status value={c.status} />
      </PageHeader>
      {c.revocationNote && <div className="notice notice-bad">{c.revocationNote}</div>}
      <div className="two-columns">
        <Panel title="Details">
          <dl className="facts">
            <dt>Subject</dt><dd data-testid="cert-subject">{c.subject}</dd>
            <dt>SANs</dt><dd>{c.sans.length ? <ul className="plain">{c.sans.map((s) => <li key={sanText(s)}>{sanText(s)}</li>)}</ul> : '—'}</dd>
            <dt>Status</dt><dd data-testid="cert-status"><Status value={c.status} />{c.revokedAt ? ` on ${fmtDate(c.revokedAt)} (${c.revocationReason ?? 'unspecified'})` : ''}</dd>
            <dt>Valid from</dt><dd>{fmtDate(c.notBefore)}</dd>
            <dt>Valid until</dt><dd>{fmtDate(c.notAfter)} {c.status === 'active' ? <span className="muted">({daysUntil(c.notAfter)} days left)</span> : null}</dd>
            <dt>Issuer</dt><dd>{parsed?.issuer ?? '—'}</dd>
            <dt>Serial</dt><dd className="mono break">{c.serial}</dd>
            <dt>Key</dt><dd>{c.keyAlgorithm}{c.hasServerGeneratedKey ? ' (generated by Certbridge)' : ''}</dd>
            <dt>SHA-256</dt><dd className="mono break" data-testid="fingerprint">{c.fingerprintSha256.toUpperCase().match(/../g)?.join(':')}</dd>
            <dt>SHA-1</dt><dd className="mono break">{sha1 ?? '—'}</dd>
            <dt>Order</dt><dd>{c.orderId ? <Link to={`/orders?id=${c.orderId}`}>{c.orderId.slice(0, 8)}</Link> : '—'}</dd>
            {c.renewedFromId && <><dt>Renewal of</dt><dd><Link to={`/certificates/${c.renewedFromId}`}>previous certificate</Link></dd></>}
          </dl>
        </Panel>
        <Panel title="Download">
          <div className="button-row">
            <a className="button secondary" href={`/api/v1/certificates/${c.id}/download?format=pem`} download>PEM</a>
            <a className="button secondary" href={`/api/v1/certificates/${c.id}/download?format=der`} download>DER</a>
            <a className="button secondary" href={`/api/v1/certificates/${c.id}/download?format=chain`} download>Chain (PEM)</a>
            <Copy text={c.certificate} label="Copy PEM" />
          </div>
          {c.hasServerGeneratedKey
            ? <Pkcs12Form cert={c} />
            : <p className="muted">PKCS#12 is offered only for keys Certbridge generated; this key stayed with the requester.</p>}
          {c.status === 'active' && (
            <>
              <h3>Renew</h3>
              <p className="muted">Issues a new certificate with the same subject and SANs through the same profile.</p>
              <button type="button" className="secondary" disabled={renew.busy} onClick={() => void doRenew()}>{renew.busy ? 'Renewing…' : 'Renew'}</button>
              <ErrorBox error={renew.error} />
              {renewed && <div className="notice">Renewal order is <Status value={renewed.order.status} />: the CA has not answered yet. <Link to="/orders?status=pending">Follow it in Orders</Link>.</div>}
              <h3>Revoke</h3>
              <RevokeForm cert={c} onDone={cert.reload} />
            </>
          )}
        </Panel>
      </div>
      <Panel title="Issuer chain">
        <ol className="chain">
          {chain.map(({ pem, parsed: p }, i) => (
            <li key={i}><strong>{p ? commonName(p.subject) : `certificate ${i + 1}`}</strong>{p ? <span className="muted"> · issued by {commonName(p.issuer)} · until {fmtDate(p.notAfter.toISOString())}</span> : null} <Copy text={pem} label="Copy" /></li>
          ))}
          {chain.length === 0 && <li className="muted">The chain is not recorded for this certificate.</li>}
        </ol>
      </Panel>
      {parsed && (
        <Panel title="Extensions">
          <table className="table">
            <thead><tr><th>Extension</th><th>Critical</th><th>Value</th></tr></thead>
            <tbody>{parsed.extensions.map((e) => <tr key={e.oid}><td>{e.name}<div className="muted mono">{e.oid}</div></td><td>{e.critical ? 'yes' : 'no'}</td><td>{e.value ?? (e.oid === '2.5.29.17' ? c.sans.map(sanText).join(', ') : '')}</td></tr>)}</tbody>
          </table>
        </Panel>
      )}
      <details className="panel"><summary>Certificate PEM</summary><pre className="pem">{c.certificate}</pre></details>
    </>
  );
}
