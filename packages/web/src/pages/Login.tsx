import { useState, type FormEvent } from 'react';
import { useAuth } from '../auth.tsx';
import { ErrorBox, Field, useAction } from '../ui.tsx';

/** First login uses the bootstrap password in `<data dir>/admin-password`. */
export function LoginPage() {
  const { login } = useAuth();
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!username.trim()) errors['username'] = 'Enter your user name.';
    if (!password) errors['password'] = 'Enter your password.';
    setInvalid(errors);
    if (Object.keys(errors).length === 0) void action.run(() => login(username.trim(), password));
  };

  return (
    <div className="login-page">
      <form className="login-card" onSubmit={submit} noValidate>
        <div className="login-brand"><img src="/favicon.svg" alt="" width="36" height="36" /><h1>Certbridge</h1></div>
        <p className="muted">Certificate lifecycle for ADCS and internal CAs.</p>
        <Field label="User name" error={invalid['username']}>
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
        </Field>
        <Field label="Password" error={invalid['password']} hint={<>First start: user <code>admin</code>, password in <code>.certbridge/admin-password</code>.</>}>
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <ErrorBox error={action.error} />
        <button type="submit" disabled={action.busy}>{action.busy ? 'Logging in…' : 'Log in'}</button>
      </form>
    </div>
  );
}
