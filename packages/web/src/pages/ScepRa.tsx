import { useEffect, useState } from 'react';
import { post } from '../api.ts';
import { Copy, ErrorBox, fmtDate, useAction } from '../ui.tsx';
import { fingerprint, parseCertificate, pemToDer } from '../x509.ts';

/** `POST …/enrollment/{profile}/scep/ra/rotate` (enrollment/scep/ra-rotation.ts). */
interface RotationResult { profile: string; raCertificate: string; previous: { raCertificate: string; serial: string; usableUntil: string } }

interface RaFacts { subject: string; notAfter: Date; sha256: string | null }

/** Subject, expiry and SHA-256 fingerprint of an RA certificate (PEM). */
function useRaFacts(pem: string | null): RaFacts | undefined {
  const [facts, setFacts] = useState<RaFacts>();
  useEffect(() => {
    if (!pem) return setFacts(undefined);
    let live = true;
    const parsed = parseCertificate(pem);
    void fingerprint(pemToDer(pem), 'SHA-256').then((sha256) => { if (live) setFacts({ subject: parsed.subject, notAfter: parsed.notAfter, sha256 }); });
    return () => { live = false; };
  }, [pem]);
  return facts;
}

/**
 * The SCEP RA certificate of one application profile and its rotation. Clients fetch the RA
 * with GetCACert, so after a rotation they need the new one; the old RA still opens their
 * requests for the grace period (7 days), which the confirmation says before anything changes.
 */
export function ScepRaCertificate({ appId, slug, pem, onRotated }: { appId: string; slug: string; pem: string; onRotated: () => void }) {
  const facts = useRaFacts(pem);
  const [rotated, setRotated] = useState<RotationResult>();
  const fresh = useRaFacts(rotated?.raCertificate ?? null);
  const action = useAction();
  const rotate = async () => {
    if (!confirm(`Rotate the SCEP RA certificate of ${slug}? Clients get the new one from GetCACert; the current one keeps opening requests for 7 days.`)) return;
    const result = await action.run(() => post<RotationResult>(`/api/v1/applications/${appId}/enrollment/${slug}/scep/ra/rotate`));
    if (result) { setRotated(result); onRotated(); }
  };
  return (
    <div className="ra-certificate" data-testid="scep-ra">
      <dl className="facts">
        <dt>RA certificate</dt><dd className="break">{facts?.subject ?? '…'}</dd>
        <dt>Valid until</dt><dd data-testid="scep-ra-expiry">{facts ? fmtDate(facts.notAfter.toISOString()) : '…'}</dd>
        <dt>SHA-256</dt><dd className="mono break" data-testid="scep-ra-fingerprint">{facts ? facts.sha256 ?? 'shown over HTTPS only (the browser computes it)' : '…'}</dd>
      </dl>
      <div className="button-row">
        <Copy text={pem} label="Copy RA certificate" />
        <button type="button" className="secondary" disabled={action.busy} onClick={() => void rotate()}>{action.busy ? 'Rotating…' : 'Rotate RA certificate'}</button>
      </div>
      {rotated && (
        <div className="notice notice-ok" role="status" data-testid="scep-ra-rotated">
          <strong>New RA certificate in use.</strong>
          <div>SHA-256 <code className="break" data-testid="scep-ra-new-fingerprint">{fresh ? fresh.sha256 ?? 'shown over HTTPS only' : '…'}</code>, valid until <span data-testid="scep-ra-new-expiry">{fresh ? fmtDate(fresh.notAfter.toISOString()) : '…'}</span>.</div>
          <div className="muted">The previous one (serial <code className="break">{rotated.previous.serial}</code>) still opens requests until {fmtDate(rotated.previous.usableUntil)}.</div>
        </div>
      )}
      <ErrorBox error={action.error} />
    </div>
  );
}
