import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { ApiError, api, csrf, setUnauthenticatedHandler } from './api.ts';
import type { Me, Role } from './types.ts';

interface AuthState {
  me: Me | null;
  /** True until the first /auth/me answer. */
  checking: boolean;
  login(username: string, password: string): Promise<void>;
  logout(): Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

/**
 * The UI session: POST /auth/login sets the HttpOnly cookie and returns the CSRF token, kept in
 * localStorage so a reload or a second tab can still write. A 401 anywhere returns to the login page.
 */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(true);

  useEffect(() => {
    setUnauthenticatedHandler(() => { csrf.set(null); setMe(null); });
    if (!csrf.get()) { setChecking(false); return; }
    api<Me>('GET', '/api/v1/auth/me').then(setMe, () => setMe(null)).finally(() => setChecking(false));
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    const answer = await api<{ user: Me; csrfToken: string }>('POST', '/api/v1/auth/login', { username, password });
    csrf.set(answer.csrfToken);
    setMe(await api<Me>('GET', '/api/v1/auth/me'));
  }, []);

  const logout = useCallback(async () => {
    try {
      await api('POST', '/api/v1/auth/logout', {});
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) throw err;
    } finally {
      csrf.set(null);
      setMe(null);
    }
  }, []);

  return <AuthContext.Provider value={{ me, checking, login, logout }}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}

/** What the caller's global role allows (packages/server/src/auth/rbac.ts). */
export function abilities(role: Role | undefined) {
  const staff = role === 'admin' || role === 'operator' || role === 'auditor';
  return {
    readAll: staff,
    manageUsers: role === 'admin',
    manageCas: role === 'admin',
    manageCatalog: role === 'admin' || role === 'operator',
    readAudit: role === 'admin' || role === 'auditor',
    manageConnections: role === 'admin',
    issueAny: role === 'admin' || role === 'operator',
  };
}
