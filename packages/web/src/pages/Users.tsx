import { Fragment, useState, type FormEvent } from 'react';
import { get, patch, post } from '../api.ts';
import type { Role, User } from '../types.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader, Panel, Status, fmtDate, useAction, useLoad } from '../ui.tsx';

const ROLES: Role[] = ['admin', 'operator', 'auditor', 'requester'];

function CreateUser({ onDone }: { onDone: () => void }) {
  const [f, setF] = useState({ username: '', password: '', role: 'requester' as Role });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!/^[A-Za-z0-9._@-]{1,100}$/.test(f.username)) errors['username'] = 'Letters, digits and . _ @ - only, up to 100.';
    if (f.password.length < 12) errors['password'] = 'At least 12 characters.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    if (await action.run(() => post('/api/v1/users', f))) { setF({ username: '', password: '', role: 'requester' }); onDone(); }
  };
  return (
    <Panel title="New user">
      <form onSubmit={(e) => void submit(e)} noValidate className="form">
        <div className="grid-3">
          <Field label="User name" error={invalid['username']}><input name="new-username" value={f.username} onChange={(e) => setF({ ...f, username: e.target.value })} /></Field>
          <Field label="Initial password" error={invalid['password']} hint="At least 12 characters; the user can change it."><input name="new-user-password" type="password" autoComplete="new-password" value={f.password} onChange={(e) => setF({ ...f, password: e.target.value })} /></Field>
          <Field label="Role"><select name="new-user-role" value={f.role} onChange={(e) => setF({ ...f, role: e.target.value as Role })}>{ROLES.map((r) => <option key={r}>{r}</option>)}</select></Field>
        </div>
        <ErrorBox error={action.error} />
        <button type="submit" disabled={action.busy}>Create user</button>
      </form>
    </Panel>
  );
}

/** Users (admin): create, change role, disable. Roles are explained in README "Roles". */
export function UsersPage() {
  const users = useLoad(() => get<{ items: User[] }>('/api/v1/users'), []);
  const action = useAction();
  const change = async (id: string, body: Partial<User> & { password?: string }) => { const ok = await action.run(() => patch(`/api/v1/users/${id}`, body)); users.reload(); return ok !== undefined; };
  const [resetFor, setResetFor] = useState<string>();
  const [newPassword, setNewPassword] = useState('');
  const [resetError, setResetError] = useState<string>();
  const [resetDone, setResetDone] = useState<string>();
  const reset = async (e: FormEvent, user: User) => {
    e.preventDefault();
    if (newPassword.length < 12) { setResetError('At least 12 characters.'); return; }
    setResetError(undefined);
    if (await change(user.id, { password: newPassword })) { setResetFor(undefined); setNewPassword(''); setResetDone(user.username); }
  };
  return (
    <>
      <PageHeader title="Users" />
      <CreateUser onDone={users.reload} />
      <ErrorBox error={users.error ?? action.error} />
      {resetDone && <div className="notice notice-ok" role="status">Password of {resetDone} changed.</div>}
      {users.loading && !users.data ? <Loading /> : users.data && users.data.items.length === 0 ? <Empty title="No users." /> : (
        <div className="table-wrap">
          <table className="table" data-testid="users-table">
            <thead><tr><th>User</th><th>Role</th><th>Status</th><th className="hide-phone">Created</th><th /></tr></thead>
            <tbody>{users.data?.items.map((u) => (
              <Fragment key={u.id}>
              <tr>
                <td>{u.username}</td>
                <td><select aria-label={`Role of ${u.username}`} value={u.role} onChange={(e) => void change(u.id, { role: e.target.value as Role })}>{ROLES.map((r) => <option key={r}>{r}</option>)}</select></td>
                <td><Status value={u.disabled ? 'disabled' : 'active'} /></td>
                <td className="hide-phone">{fmtDate(u.createdAt)}</td>
                <td className="row-actions">
                  <button type="button" className="secondary small" onClick={() => { setResetFor(resetFor === u.id ? undefined : u.id); setNewPassword(''); setResetError(undefined); }}>Set password</button>
                  <button type="button" className="secondary small" onClick={() => void change(u.id, { disabled: !u.disabled })}>{u.disabled ? 'Enable' : 'Disable'}</button>
                </td>
              </tr>
              {resetFor === u.id && (
                <tr><td colSpan={5}>
                  <form className="form inline-form" noValidate onSubmit={(e) => void reset(e, u)}>
                    <Field label={`New password for ${u.username}`} error={resetError} hint="At least 12 characters; tell the user over a separate channel."><input name="reset-password" type="password" autoComplete="new-password" value={newPassword} onChange={(e) => setNewPassword(e.target.value)} /></Field>
                    <button type="submit" disabled={action.busy}>Save password</button>
                  </form>
                </td></tr>
              )}
              </Fragment>
            ))}</tbody>
          </table>
        </div>
      )}
    </>
  );
}
