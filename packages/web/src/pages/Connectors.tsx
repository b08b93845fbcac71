import { useState, type FormEvent } from 'react';
import { get, post } from '../api.ts';
import { abilities, useAuth } from '../auth.tsx';
import { Copy, Empty, ErrorBox, Field, Loading, PageHeader, Panel, Status, fmtDate, useAction, useLoad } from '../ui.tsx';

/** `GET /api/v1/connectors` items (connector-routes.ts connectorDto). */
export interface Connector {
  id: string; name: string; site: string; status: string; online: boolean; version: string | null; lastHeartbeatAt: string | null;
  certificateSerial: string | null; certificateExpiresAt: string | null; jobsDone: number; jobsFailed: number; createdAt: string; updatedAt: string;
}

interface RegistrationToken { connector: string; registrationToken: string; tokenExpiresAt: string }

/** The server's public URL, as the OpenAPI document names it (CERTBRIDGE_PUBLIC_URL): connectors dial it. */
async function publicUrl(): Promise<string> {
  const doc = await get<{ servers?: { url: string }[] }>('/api/v1/openapi.json');
  return doc.servers?.[0]?.url ?? window.location.origin;
}

/** The one-time registration token with the command that uses it; shown once, right after it was made. */
function TokenNotice({ token, server, onDone }: { token: RegistrationToken; server: string; onDone: () => void }) {
  const command = `certbridge-connector register --server ${server} --token '${token.registrationToken}'`;
  return (
    <div className="notice notice-secret" role="status" data-testid="connector-token">
      <strong>Registration token for “{token.connector}”. Copy it now: it is shown only once.</strong>
      <div className="secret-row"><code className="secret" data-testid="connector-token-value">{token.registrationToken}</code><Copy text={token.registrationToken} /></div>
      <div>On the connector host, run:</div>
      <div className="secret-row"><code className="secret" data-testid="connector-register-command">{command}</code><Copy text={command} label="Copy command" /></div>
      {!server.startsWith('https://') && <div className="notice notice-bad">This server's public URL ({server}) is not https: connectors authenticate with client certificates on the HTTPS listener, so use its https:// address in the command.</div>}
      <div className="muted">Then <code>certbridge-connector run</code>. The token works once, until {fmtDate(token.tokenExpiresAt)}.</div>
      <button type="button" className="link" onClick={onDone}>I have stored it</button>
    </div>
  );
}

/** On-prem connectors: status and heartbeat, one-time registration tokens, revocation. */
export function ConnectorsPage() {
  const { me } = useAuth();
  const can = abilities(me?.role);
  const connectors = useLoad(() => get<{ items: Connector[] }>('/api/v1/connectors'), []);
  const server = useLoad(publicUrl, []);
  const [f, setF] = useState({ name: '', site: '' });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [token, setToken] = useState<RegistrationToken>();
  const create = useAction();
  const rowAction = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(f.name)) errors['name'] = 'Letters, digits and . _ -; up to 100, starting with a letter or digit.';
    if (f.site.length > 200) errors['site'] = 'Up to 200 characters.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const created = await create.run(() => post<Connector & { registrationToken: string; tokenExpiresAt: string }>('/api/v1/connectors', { name: f.name, site: f.site.trim() }));
    if (created) {
      setToken({ connector: created.name, registrationToken: created.registrationToken, tokenExpiresAt: created.tokenExpiresAt });
      setF({ name: '', site: '' });
      connectors.reload();
    }
  };
  const newToken = async (c: Connector) => {
    const t = await rowAction.run(() => post<{ registrationToken: string; tokenExpiresAt: string }>(`/api/v1/connectors/${c.id}/token`));
    if (t) setToken({ connector: c.name, ...t });
  };
  const revoke = async (c: Connector) => {
    if (!confirm(`Revoke connector “${c.name}”? Its connection is dropped at once and it cannot reconnect; CAs that use it stop issuing through it.`)) return;
    if (await rowAction.run(() => post(`/api/v1/connectors/${c.id}/revoke`))) connectors.reload();
  };

  return (
    <>
      <PageHeader title="Connectors" />
      <p className="muted">A connector runs inside your network next to ADCS and takes issuance jobs from Certbridge over an outbound connection, so ADCS needs no inbound access.</p>
      {token && <TokenNotice token={token} server={server.data ?? window.location.origin} onDone={() => setToken(undefined)} />}
      {can.manageConnections && (
        <Panel title="New connector">
          <form onSubmit={(e) => void submit(e)} noValidate className="form">
            <div className="grid-2">
              <Field label="Name" error={invalid['name']}><input name="connector-name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} /></Field>
              <Field label="Site" error={invalid['site']} hint="Where it runs, e.g. “Berlin datacenter”."><input name="connector-site" value={f.site} onChange={(e) => setF({ ...f, site: e.target.value })} /></Field>
            </div>
            <ErrorBox error={create.error} />
            <button type="submit" disabled={create.busy}>Create connector</button>
          </form>
        </Panel>
      )}
      <ErrorBox error={connectors.error ?? rowAction.error} />
      {connectors.loading && !connectors.data ? <Loading /> : connectors.data && connectors.data.items.length === 0 ? (
        <Empty title="No connectors yet.">{can.manageConnections ? 'Create one above, then register it on a host that reaches ADCS.' : 'An administrator creates them.'}</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="connectors-table">
            <thead><tr><th>Name</th><th>Status</th><th className="hide-phone">Site</th><th className="hide-phone">Version</th><th className="hide-phone">Last heartbeat</th><th className="hide-phone">Certificate expires</th><th className="hide-phone">Jobs done / failed</th><th /></tr></thead>
            <tbody>{connectors.data?.items.map((c) => (
              <tr key={c.id}>
                <td>{c.name}</td>
                <td><Status value={c.status === 'revoked' ? 'revoked' : c.online ? 'online' : 'offline'} />{c.status === 'pending' ? <span className="muted"> not registered</span> : null}
                  <div className="muted phone-only">heartbeat {fmtDate(c.lastHeartbeatAt)}</div></td>
                <td className="hide-phone">{c.site || '—'}</td>
                <td className="hide-phone">{c.version ?? '—'}</td>
                <td className="hide-phone">{fmtDate(c.lastHeartbeatAt)}</td>
                <td className="hide-phone">{fmtDate(c.certificateExpiresAt)}</td>
                <td className="hide-phone">{c.jobsDone} / {c.jobsFailed}</td>
                <td className="row-actions stack">{can.manageConnections && c.status !== 'revoked' && <>
                  <button type="button" className="secondary small" onClick={() => void newToken(c)}>New token</button>
                  <button type="button" className="danger small" onClick={() => void revoke(c)}>Revoke</button>
                </>}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </>
  );
}
