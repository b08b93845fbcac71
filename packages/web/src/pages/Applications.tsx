import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { del, get, patch, post, put } from '../api.ts';
import { abilities, useAuth } from '../auth.tsx';
import { EnrollmentPanel } from './Enrollment.tsx';
import type { AppRole, Application, ApplicationDetail, Profile, User } from '../types.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader, Panel, fmtDate, useAction, useLoad } from '../ui.tsx';

const APP_ROLES: AppRole[] = ['owner', 'requester', 'viewer'];

function ProfilePicker({ all, selected, onChange }: { all: Profile[]; selected: string[]; onChange: (ids: string[]) => void }) {
  if (all.length === 0) return <Empty title="No profiles exist yet."><Link to="/profiles">Create a profile</Link> first.</Empty>;
  return (
    <div className="checks">{all.map((p) => (
      <label key={p.id} className="check"><input type="checkbox" checked={selected.includes(p.id)} onChange={(e) => onChange(e.target.checked ? [...selected, p.id] : selected.filter((x) => x !== p.id))} /> {p.slug}</label>
    ))}</div>
  );
}

export function ApplicationsPage() {
  const { me } = useAuth();
  const can = abilities(me?.role);
  const navigate = useNavigate();
  const apps = useLoad(() => get<{ items: Application[] }>('/api/v1/applications'), []);
  const profiles = useLoad(async () => (can.readAll ? (await get<{ items: Profile[] }>('/api/v1/profiles')).items : []), [can.readAll]);
  const [open, setOpen] = useState(false);
  const [f, setF] = useState({ name: '', description: '' });
  const [selected, setSelected] = useState<string[]>([]);
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(f.name)) errors['name'] = 'Lower-case letters, digits and dashes, up to 63.';
    setInvalid(errors);
    if (Object.keys(errors).length) return;
    const created = await action.run(() => post<Application>('/api/v1/applications', { ...f, profiles: selected }));
    if (created) navigate(`/applications/${created.id}`);
  };
  return (
    <>
      <PageHeader title="Applications">{can.manageCatalog && <button type="button" onClick={() => setOpen(true)}>New application</button>}</PageHeader>
      <p className="muted">An application groups the profiles a team may issue from, and who may do what in it.</p>
      {open && (
        <Panel title="New application" onClose={() => setOpen(false)}>
          <form onSubmit={(e) => void submit(e)} noValidate className="form">
            <div className="grid-2">
              <Field label="Name" error={invalid['name']}><input name="app-name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} /></Field>
              <Field label="Description"><input name="app-description" value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} /></Field>
            </div>
            <Field label="Profiles"><ProfilePicker all={profiles.data ?? []} selected={selected} onChange={setSelected} /></Field>
            <ErrorBox error={action.error} />
            <button type="submit" disabled={action.busy}>Create application</button>
          </form>
        </Panel>
      )}
      <ErrorBox error={apps.error} />
      {apps.loading && !apps.data ? <Loading /> : apps.data && apps.data.items.length === 0 ? <Empty title="No applications you can see.">{can.manageCatalog ? 'Create one above.' : 'Ask an application owner to add you.'}</Empty> : (
        <div className="table-wrap">
          <table className="table" data-testid="applications-table">
            <thead><tr><th>Name</th><th>Description</th><th className="hide-phone">Created</th><th /></tr></thead>
            <tbody>{apps.data?.items.map((a) => (
              <tr key={a.id}><td><Link to={`/applications/${a.id}`}>{a.name}</Link></td><td>{a.description || <span className="muted">—</span>}</td><td className="hide-phone">{fmtDate(a.createdAt)}</td>
                <td className="row-actions"><Link className="button small" to={`/issue?application=${a.id}`}>Issue</Link></td></tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </>
  );
}

export function ApplicationDetailPage() {
  const { id = '' } = useParams();
  const { me } = useAuth();
  const can = abilities(me?.role);
  const app = useLoad(() => get<ApplicationDetail>(`/api/v1/applications/${id}`), [id]);
  const profiles = useLoad(async () => (can.readAll ? (await get<{ items: Profile[] }>('/api/v1/profiles')).items : []), [can.readAll]);
  const users = useLoad(async () => (can.manageUsers ? (await get<{ items: User[] }>('/api/v1/users')).items : []), [can.manageUsers]);
  const [selected, setSelected] = useState<string[]>([]);
  const [description, setDescription] = useState('');
  const [member, setMember] = useState({ user: '', role: 'requester' as AppRole });
  const [memberError, setMemberError] = useState<string>();
  const save = useAction();
  const members = useAction();
  useEffect(() => { if (app.data) { setSelected(app.data.profiles.map((p) => p.id)); setDescription(app.data.description); } }, [app.data]);

  if (app.error) return <><PageHeader title="Application" /><ErrorBox error={app.error} /></>;
  if (!app.data) return <Loading />;
  const a = app.data;
  const myRole = a.members.find((m) => m.userId === me?.id)?.role;
  const manageMembers = can.manageCatalog || myRole === 'owner';
  const setRole = async (user: string, role: AppRole) => { if (await members.run(() => put(`/api/v1/applications/${a.id}/members`, { user, role }))) app.reload(); };
  const addMember = async (e: FormEvent) => {
    e.preventDefault();
    if (!member.user.trim()) { setMemberError('Enter a user name.'); return; }
    setMemberError(undefined);
    await setRole(member.user.trim(), member.role);
    setMember({ user: '', role: 'requester' });
  };

  return (
    <>
      <PageHeader title={a.name}><Link className="button" to={`/issue?application=${a.id}`}>Issue certificate</Link></PageHeader>
      <div className="two-columns">
        <Panel title="Profiles">
          {can.manageCatalog ? (
            <div className="form">
              <Field label="Description"><input name="app-description" value={description} onChange={(e) => setDescription(e.target.value)} /></Field>
              <ProfilePicker all={profiles.data ?? []} selected={selected} onChange={setSelected} />
              <ErrorBox error={save.error} />
              <button type="button" disabled={save.busy} onClick={() => void save.run(() => patch(`/api/v1/applications/${a.id}`, { description, profiles: selected })).then(app.reload)}>Save</button>
            </div>
          ) : a.profiles.length ? <ul className="plain">{a.profiles.map((p) => <li key={p.id}>{p.slug}</li>)}</ul> : <Empty title="No profiles attached." />}
        </Panel>
        <Panel title="Members">
          {a.members.length === 0 ? <Empty title="No members yet.">Admins and operators act in every application; add requesters here.</Empty> : (
            <table className="table" data-testid="members-table">
              <thead><tr><th>User</th><th>Role</th><th /></tr></thead>
              <tbody>{a.members.map((m) => (
                <tr key={m.userId}>
                  <td>{m.username}</td>
                  <td>{manageMembers ? <select aria-label={`Role of ${m.username}`} value={m.role} onChange={(e) => void setRole(m.userId, e.target.value as AppRole)}>{APP_ROLES.map((r) => <option key={r}>{r}</option>)}</select> : m.role}</td>
                  <td className="row-actions">{manageMembers && <button type="button" className="link" onClick={() => void members.run(() => del(`/api/v1/applications/${a.id}/members/${m.userId}`)).then(app.reload)}>Remove</button>}</td>
                </tr>
              ))}</tbody>
            </table>
          )}
          {manageMembers && (
            <form onSubmit={(e) => void addMember(e)} noValidate className="form inline-form">
              <Field label="User" error={memberError}>
                {users.data && users.data.length ? (
                  <select name="member-user" value={member.user} onChange={(e) => setMember({ ...member, user: e.target.value })}>
                    <option value="">Choose…</option>{users.data.filter((u) => !a.members.some((m) => m.userId === u.id)).map((u) => <option key={u.id} value={u.username}>{u.username}</option>)}
                  </select>
                ) : <input name="member-user" placeholder="user name" value={member.user} onChange={(e) => setMember({ ...member, user: e.target.value })} />}
              </Field>
              <Field label="Role"><select name="member-role" value={member.role} onChange={(e) => setMember({ ...member, role: e.target.value as AppRole })}>{APP_ROLES.map((r) => <option key={r}>{r}</option>)}</select></Field>
              <button type="submit" disabled={members.busy}>Add member</button>
            </form>
          )}
          <ErrorBox error={members.error} />
          <p className="muted">viewer reads · requester also issues and revokes its own · owner also revokes anything and manages members.</p>
        </Panel>
      </div>
      <EnrollmentPanel app={a} manage={manageMembers} />
    </>
  );
}
