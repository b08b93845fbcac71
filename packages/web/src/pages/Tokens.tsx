import { useState, type FormEvent } from 'react';
import { del, get, post } from '../api.ts';
import { abilities, useAuth } from '../auth.tsx';
import type { Token, User } from '../types.ts';
import { Copy, Empty, ErrorBox, Field, Loading, PageHeader, Panel, Status, fmtDate, useAction, useLoad } from '../ui.tsx';

/** API tokens: the secret is shown once, right after creation; only its hash is stored. */
export function TokensPage() {
  const { me } = useAuth();
  const can = abilities(me?.role);
  const tokens = useLoad(() => get<{ items: Token[] }>('/api/v1/tokens'), []);
  const users = useLoad(async () => (can.manageUsers ? (await get<{ items: User[] }>('/api/v1/users')).items : []), [can.manageUsers]);
  const [f, setF] = useState({ name: '', userId: '', expiresAt: '' });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [secret, setSecret] = useState<{ name: string; token: string }>();
  const action = useAction();
  const revoke = useAction();
  const userName = (id: string) => users.data?.find((u) => u.id === id)?.username ?? (id === me?.id ? me.username : id.slice(0, 8));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!f.name.trim()) errors['name'] = 'Name the token after what uses it (e.g. "deploy pipeline").';
    if (f.expiresAt && new Date(f.expiresAt).getTime() <= Date.now()) errors['expiresAt'] = 'Choose a date in the future.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const created = await action.run(() => post<Record<string, unknown>>('/api/v1/tokens', {
      name: f.name.trim(), ...(f.userId ? { userId: f.userId } : {}), ...(f.expiresAt ? { expiresAt: new Date(f.expiresAt).toISOString() } : {}),
    }));
    if (created) {
      const token = String(created['token'] ?? created['secret'] ?? '');
      setSecret({ name: f.name.trim(), token });
      setF({ name: '', userId: '', expiresAt: '' });
      tokens.reload();
    }
  };

  return (
    <>
      <PageHeader title="API tokens" />
      {secret && (
        <div className="notice notice-secret" role="status" data-testid="token-secret">
          <strong>Token “{secret.name}” created. Copy it now: it is shown only once.</strong>
          <div className="secret-row"><code className="secret">{secret.token}</code><Copy text={secret.token} /></div>
          <div className="muted">Use it as <code>Authorization: Bearer …</code>.</div>
          <button type="button" className="link" onClick={() => setSecret(undefined)}>I have stored it</button>
        </div>
      )}
      <Panel title="New token">
        <form onSubmit={(e) => void submit(e)} noValidate className="form">
          <div className="grid-3">
            <Field label="Name" error={invalid['name']}><input name="token-name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} /></Field>
            {can.manageUsers && (
              <Field label="For user"><select name="token-user" value={f.userId} onChange={(e) => setF({ ...f, userId: e.target.value })}>
                <option value="">Me ({me?.username})</option>
                {users.data?.filter((u) => u.id !== me?.id).map((u) => <option key={u.id} value={u.id}>{u.username}</option>)}
              </select></Field>
            )}
            <Field label="Expires" error={invalid['expiresAt']} hint="Empty: never."><input name="token-expires" type="date" value={f.expiresAt} onChange={(e) => setF({ ...f, expiresAt: e.target.value })} /></Field>
          </div>
          <ErrorBox error={action.error} />
          <button type="submit" disabled={action.busy}>Create token</button>
        </form>
      </Panel>
      <ErrorBox error={tokens.error ?? revoke.error} />
      {tokens.loading && !tokens.data ? <Loading /> : tokens.data && tokens.data.items.length === 0 ? <Empty title="No API tokens yet.">Create one above for scripts and CI pipelines.</Empty> : (
        <div className="table-wrap">
          <table className="table" data-testid="tokens-table">
            <thead><tr><th>Name</th><th>Prefix</th><th>User</th><th>Status</th><th className="hide-phone">Last used</th><th className="hide-phone">Expires</th><th /></tr></thead>
            <tbody>{tokens.data?.items.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td><td className="mono">{t.prefix}…</td><td>{userName(t.userId)}</td>
                <td><Status value={t.revokedAt ? 'revoked' : t.expiresAt && new Date(t.expiresAt) < new Date() ? 'expired' : 'active'} /></td>
                <td className="hide-phone">{fmtDate(t.lastUsedAt)}</td><td className="hide-phone">{t.expiresAt ? fmtDate(t.expiresAt) : 'never'}</td>
                <td className="row-actions">{!t.revokedAt && <button type="button" className="danger small" onClick={() => { if (confirm(`Revoke token “${t.name}”?`)) void revoke.run(() => del(`/api/v1/tokens/${t.id}`)).then(tokens.reload); }}>Revoke</button>}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </>
  );
}
