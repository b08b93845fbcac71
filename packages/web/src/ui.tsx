import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from './api.ts';

/** Loads data for a screen; `reload` re-runs it. Stale answers (after a newer call) are dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const run = useCallback(() => {
    const mine = ++seq.current;
    setLoading(true);
    load().then(
      (value) => { if (mine === seq.current) { setData(value); setError(undefined); setLoading(false); } },
      (err: unknown) => { if (mine === seq.current) { setError(err); setLoading(false); } },
    );
  }, deps);
  useEffect(run, [run]);
  return { data, error, loading, reload: run };
}

/** Runs a form action: busy flag, the server's error, and a success message. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await fn();
    } catch (err) {
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

/** The server's error code and message (and validation issues), or a client-side message. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError) {
    const issues = Array.isArray(error.details?.['issues']) ? (error.details['issues'] as { path?: string; message?: string; rule?: string }[]) : [];
    const violations = Array.isArray(error.details?.['violations']) ? (error.details['violations'] as unknown[]) : [];
    const extra = ['disposition', 'hresult', 'caRequestId'].filter((k) => error.details?.[k]).map((k) => `${k}: ${String(error.details![k])}`);
    return (
      <div className="error" role="alert">
        <code className="error-code">{error.code}</code> {error.message}
        {issues.length > 0 && <ul>{issues.map((i, n) => <li key={n}>{i.path ? <code>{i.path}</code> : null} {i.message ?? i.rule}</li>)}</ul>}
        {violations.length > 0 && <ul>{violations.map((v, n) => <li key={n}>{typeof v === 'string' ? v : JSON.stringify(v)}</li>)}</ul>}
        {extra.length > 0 && <div className="muted">{extra.join(' · ')}</div>}
      </div>
    );
  }
  return <div className="error" role="alert">{error instanceof Error ? error.message : String(error)}</div>;
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return <div className="empty"><strong>{title}</strong>{children ? <div>{children}</div> : null}</div>;
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return <div className="loading" aria-busy="true"><span className="spinner" /> {what}…</div>;
}

/** Status pill coloured by meaning: green done, amber waiting, red failed, grey ended. */
export function Status({ value }: { value: string }) {
  const tone: Record<string, string> = {
    issued: 'ok', active: 'ok', ready: 'ok', closed: 'ok', healthy: 'ok', online: 'ok', synced: 'ok',
    pending: 'warn', 'half-open': 'warn', processing: 'warn',
    denied: 'bad', failed: 'bad', revoked: 'bad', open: 'bad', broken: 'bad', unhealthy: 'bad', offline: 'bad',
    cancelled: 'muted', expired: 'muted', disabled: 'muted',
  };
  const label = value === 'revoked' ? 'Revoked' : value.charAt(0).toUpperCase() + value.slice(1);
  return <span className={`status status-${tone[value] ?? 'muted'}`}>{label}</span>;
}

export function Field({ label, hint, error, children }: { label: string; hint?: ReactNode; error?: string | undefined; children: ReactNode }) {
  return (
    <label className={`field${error ? ' field-invalid' : ''}`}>
      <span className="field-label">{label}</span>
      {children}
      {error ? <span className="field-error">{error}</span> : hint ? <span className="field-hint">{hint}</span> : null}
    </label>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return <div className="page-header"><h1>{title}</h1><div className="actions">{children}</div></div>;
}

/** A panel that can be opened from a button (create forms). */
export function Panel({ title, children, onClose }: { title: string; children: ReactNode; onClose?: () => void }) {
  return (
    <section className="panel">
      <div className="panel-head"><h2>{title}</h2>{onClose ? <button type="button" className="link" onClick={onClose}>Close</button> : null}</div>
      {children}
    </section>
  );
}

export function Copy({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button type="button" className="secondary small" onClick={() => { void navigator.clipboard?.writeText(text).then(() => { setDone(true); setTimeout(() => setDone(false), 1500); }); }}>
      {done ? 'Copied' : label}
    </button>
  );
}

export const fmtDate = (value: string | null | undefined): string => (value ? new Date(value).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—');
export const fmtDay = (value: string | null | undefined): string => (value ? new Date(value).toLocaleDateString(undefined, { dateStyle: 'medium' }) : '—');

/** Days from now until a date (negative when past). */
export const daysUntil = (value: string): number => Math.floor((new Date(value).getTime() - Date.now()) / 86_400_000);

/** The CN of an RFC 4514 subject string, or the whole subject. */
export function commonName(subject: string): string {
  const match = /(?:^|,\s*)CN=((?:\\.|[^,])+)/i.exec(subject);
  return match ? match[1]!.replace(/\\(.)/g, '$1') : subject;
}

export const sanText = (s: { type: string; value: string }) => `${s.type}:${s.value}`;
