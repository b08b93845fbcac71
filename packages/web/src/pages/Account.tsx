import { useState, type FormEvent } from 'react';
import { patch } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { ErrorBox, Field, PageHeader, Panel, useAction } from '../ui.tsx';

/** The current user and a password change (PATCH /users/{own id} with only `password`). */
export function AccountPage() {
  const { me } = useAuth();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [done, setDone] = useState(false);
  const action = useAction();
  if (!me) return null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    const errors: Record<string, string> = {};
    if (password.length < 12) errors['password'] = 'At least 12 characters.';
    if (confirm !== password) errors['confirm'] = 'The two passwords differ.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const ok = await action.run(() => patch(`/api/v1/users/${me.id}`, { password }));
    if (ok !== undefined) { setDone(true); setPassword(''); setConfirm(''); }
  };

  return (
    <>
      <PageHeader title="Your account" />
      <dl className="facts">
        <dt>User name</dt><dd data-testid="me-username">{me.username}</dd>
        <dt>Role</dt><dd>{me.role}</dd>
        <dt>User id</dt><dd><code>{me.id}</code></dd>
      </dl>
      <Panel title="Change password">
        <form onSubmit={(e) => void submit(e)} noValidate className="form narrow">
          <Field label="New password" error={invalid['password']} hint="At least 12 characters.">
            <input name="new-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </Field>
          <Field label="Repeat the new password" error={invalid['confirm']}>
            <input name="confirm-password" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
          </Field>
          <ErrorBox error={action.error} />
          {done && <div className="notice" role="status">Password changed. Other sessions stay logged in until they expire.</div>}
          <button type="submit" disabled={action.busy}>Change password</button>
        </form>
      </Panel>
    </>
  );
}
