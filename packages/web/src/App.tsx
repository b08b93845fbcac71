import { useEffect, useState } from 'react';
import { NavLink, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { abilities, useAuth } from './auth.tsx';
import { Loading } from './ui.tsx';
import { AccountPage } from './pages/Account.tsx';
import { ApplicationDetailPage, ApplicationsPage } from './pages/Applications.tsx';
import { AuditPage } from './pages/Audit.tsx';
import { CaDetailPage, CasPage } from './pages/Cas.tsx';
import { CertificateDetailPage } from './pages/CertificateDetail.tsx';
import { CertificatesPage } from './pages/Certificates.tsx';
import { ConnectionsPage } from './pages/Connections.tsx';
import { AzureConnectionsPage } from './pages/AzureConnections.tsx';
import { ConnectorsPage } from './pages/Connectors.tsx';
import { DashboardPage } from './pages/Dashboard.tsx';
import { IssuePage } from './pages/Issue.tsx';
import { LoginPage } from './pages/Login.tsx';
import { OrdersPage } from './pages/Orders.tsx';
import { PoliciesPage } from './pages/Policies.tsx';
import { ProfilesPage } from './pages/Profiles.tsx';
import { SyncDetailPage, SyncsPage } from './pages/Syncs.tsx';
import { TokensPage } from './pages/Tokens.tsx';
import { UsersPage } from './pages/Users.tsx';

interface NavItem { to: string; label: string; show: boolean }

export function App() {
  const { me, checking, logout } = useAuth();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [location.pathname]);

  if (checking) return <div className="center"><Loading what="Starting" /></div>;
  if (!me) return <LoginPage />;

  const can = abilities(me.role);
  const nav: NavItem[][] = [
    [
      { to: '/', label: 'Dashboard', show: true },
      { to: '/certificates', label: 'Certificates', show: true },
      { to: '/issue', label: 'Issue certificate', show: true },
      { to: '/orders', label: 'Orders', show: true },
    ],
    [
      { to: '/applications', label: 'Applications', show: true },
      { to: '/profiles', label: 'Profiles', show: can.readAll },
      { to: '/policies', label: 'Policies', show: can.readAll },
      { to: '/cas', label: 'Certificate authorities', show: can.readAll },
      { to: '/connections', label: 'ADCS connections', show: can.readAll },
      { to: '/connections/azure', label: 'Azure connections', show: can.readAll },
      { to: '/connectors', label: 'Connectors', show: can.readAll },
      { to: '/syncs', label: 'Key Vault syncs', show: can.readAll },
    ],
    [
      { to: '/users', label: 'Users', show: can.manageUsers },
      { to: '/tokens', label: 'API tokens', show: true },
      { to: '/audit', label: 'Audit log', show: can.readAudit },
    ],
  ];

  return (
    <div className="shell">
      <header className="topbar">
        <button type="button" className="menu-button" aria-label="Menu" aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)}>☰</button>
        <NavLink to="/" className="brand"><img src="/favicon.svg" alt="" width="22" height="22" /> Certbridge</NavLink>
        <div className="spacer" />
        <NavLink to="/account" className="whoami" title="Your account">{me.username} <span className="role">{me.role}</span></NavLink>
        <button type="button" className="secondary small" onClick={() => void logout()}>Log out</button>
      </header>
      <nav className={`sidebar${menuOpen ? ' open' : ''}`} aria-label="Main">
        {nav.map((group, i) => (
          <ul key={i}>
            {group.filter((n) => n.show).map((n) => (
              <li key={n.to}><NavLink to={n.to} end={n.to === '/' || n.to === '/connections'}>{n.label}</NavLink></li>
            ))}
          </ul>
        ))}
      </nav>
      <main className="content">
        <Routes>
          <Route path="/" element={<DashboardPage />} />
          <Route path="/certificates" element={<CertificatesPage />} />
          <Route path="/certificates/:id" element={<CertificateDetailPage />} />
          <Route path="/issue" element={<IssuePage />} />
          <Route path="/orders" element={<OrdersPage />} />
          <Route path="/applications" element={<ApplicationsPage />} />
          <Route path="/applications/:id" element={<ApplicationDetailPage />} />
          <Route path="/profiles" element={<ProfilesPage />} />
          <Route path="/policies" element={<PoliciesPage />} />
          <Route path="/cas" element={<CasPage />} />
          <Route path="/cas/:id" element={<CaDetailPage />} />
          <Route path="/connections" element={<ConnectionsPage />} />
          <Route path="/connections/azure" element={<AzureConnectionsPage />} />
          <Route path="/connectors" element={<ConnectorsPage />} />
          <Route path="/syncs" element={<SyncsPage />} />
          <Route path="/syncs/:id" element={<SyncDetailPage />} />
          <Route path="/users" element={<UsersPage />} />
          <Route path="/tokens" element={<TokensPage />} />
          <Route path="/audit" element={<AuditPage />} />
          <Route path="/account" element={<AccountPage />} />
          <Route path="/login" element={<Navigate to="/" replace />} />
          <Route path="*" element={<div className="empty"><strong>No such page.</strong> <NavLink to="/">Back to the dashboard</NavLink></div>} />
        </Routes>
      </main>
    </div>
  );
}
