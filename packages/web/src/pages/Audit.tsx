import { Fragment, useState } from 'react';
import { get, qs } from '../api.ts';
import type { AuditEntry, AuditVerification } from '../types.ts';
import { Empty, ErrorBox, Loading, PageHeader, fmtDate, useAction, useLoad } from '../ui.tsx';

/** The hash-chained audit log, newest first, paged by `nextBefore`; "Verify chain" recomputes it. */
export function AuditPage() {
  const [action, setAction] = useState('');
  const [filter, setFilter] = useState('');
  const [pages, setPages] = useState<number[]>([]);
  const before = pages.at(-1);
  const log = useLoad(() => get<{ items: AuditEntry[]; nextBefore: number | null }>(`/api/v1/audit${qs({ action: filter, limit: 50, before })}`), [filter, before]);
  const verify = useAction();
  const [result, setResult] = useState<AuditVerification>();
  const [open, setOpen] = useState<number>();

  return (
    <>
      <PageHeader title="Audit log">
        <button type="button" className="secondary" disabled={verify.busy} onClick={() => void verify.run(() => get<AuditVerification>('/api/v1/audit/verify')).then((r) => r && setResult(r))}>
          {verify.busy ? 'Verifying…' : 'Verify chain'}
        </button>
      </PageHeader>
      <ErrorBox error={verify.error} />
      {result && (result.ok
        ? <div className="notice notice-ok" role="status" data-testid="audit-verify">Chain intact: {result.rows} rows verified. Newest hash <code className="break">{result.head}</code> — keep it elsewhere to detect removal of the newest rows.</div>
        : <div className="notice notice-bad" role="alert" data-testid="audit-verify">Chain broken at row {result.problem?.seq} ({result.problem?.kind}): {result.problem?.message}</div>)}
      <form className="filters" onSubmit={(e) => { e.preventDefault(); setPages([]); setFilter(action.trim()); }}>
        <input aria-label="Action" placeholder="Action, e.g. certificate.revoke" value={action} onChange={(e) => setAction(e.target.value)} />
        <button type="submit" className="secondary">Filter</button>
      </form>
      <ErrorBox error={log.error} />
      {log.loading && !log.data ? <Loading /> : log.data && log.data.items.length === 0 ? <Empty title="No audit entries match." /> : log.data && (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="audit-table">
              <thead><tr><th>#</th><th>When</th><th>Actor</th><th>Action</th><th className="hide-phone">Resource</th><th>Outcome</th></tr></thead>
              <tbody>{log.data.items.map((a) => (
                <Fragment key={a.seq}>
                  <tr onClick={() => setOpen(open === a.seq ? undefined : a.seq)} className="clickable">
                    <td>{a.seq}</td><td>{fmtDate(a.occurredAt)}</td><td>{a.actor.name ?? a.actor.type}</td><td className="mono">{a.action}</td>
                    <td className="hide-phone">{a.resourceType}{a.resourceId ? <span className="muted"> {a.resourceId.slice(0, 8)}</span> : null}</td>
                    <td>{a.outcome}</td>
                  </tr>
                  {open === a.seq && <tr><td colSpan={6}><pre className="pem">{JSON.stringify({ details: a.details, hash: a.hash }, null, 2)}</pre></td></tr>}
                </Fragment>
              ))}</tbody>
            </table>
          </div>
          <div className="pager">
            <button type="button" className="secondary" disabled={!pages.length} onClick={() => setPages(pages.slice(0, -1))}>Newer</button>
            <button type="button" className="secondary" disabled={!log.data.nextBefore} onClick={() => setPages([...pages, log.data!.nextBefore!])}>Older</button>
          </div>
        </>
      )}
    </>
  );
}
