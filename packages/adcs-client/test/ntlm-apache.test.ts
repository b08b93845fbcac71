/**
 * The NTLMv2 client against a real NTLM server nobody here wrote (Apache + mod_auth_gssapi +
 * gss-ntlmssp), over TLS on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transport } from '../src/http/transport.ts';
import { ntlmAuth } from '../src/auth/ntlm/http-ntlm.ts';
import { MIC_OFFSET } from '../src/auth/ntlm/messages.ts';
import type { AuthMechanism } from '../src/auth/types.ts';
import { AdcsError } from '../src/errors.ts';
import { apacheAvailable, startApacheNtlm, type ApacheNtlm } from './helpers/apache-ntlm.ts';
import { createTestPki, type TestPki } from './helpers/pki.ts';

describe('NTLM against Apache mod_auth_gssapi + gss-ntlmssp', () => {
  let pki: TestPki;
  let apache: ApacheNtlm;

  beforeAll(async () => {
    if (!apacheAvailable()) throw new Error('Debian packages apache2, libapache2-mod-auth-gssapi and gss-ntlmssp are required for this test');
    pki = await createTestPki();
    const server = await pki.issue({ ips: ['127.0.0.1'] });
    apache = await startApacheNtlm({ server, users: ['CORP:alice:Passw0rd!'] });
  });
  afterAll(async () => { if (process.env.DEBUG_APACHE) console.log(await apache?.errorLog()); await apache?.stop(); });

  /** Flips one bit of the AUTHENTICATE message at `offset`: the server must notice. */
  function tampered(offset: number): AuthMechanism {
    const inner = ntlmAuth({ username: 'alice', password: 'Passw0rd!', domain: 'CORP' }, { host: '127.0.0.1' });
    return {
      ...inner,
      startHandshake: () => {
        const h = inner.startHandshake?.();
        if (!h) throw new Error('no handshake');
        return {
          async step(challenges, socket) {
            const value = await h.step(challenges, socket);
            if (!value || !challenges) return value;
            const raw = Buffer.from(value.slice('NTLM '.length), 'base64');
            raw[offset] = (raw[offset] ?? 0) ^ 0x01;
            return `NTLM ${raw.toString('base64')}`;
          },
        };
      },
    };
  }

  function transport(password: string, auth?: AuthMechanism): Transport {
    return new Transport({
      baseUrl: new URL(apache.url),
      ca: pki.root.certPem,
      rejectUnauthorized: true,
      timeoutMs: 10_000,
      auth: auth ?? ntlmAuth({ username: 'alice', password, domain: 'CORP' }, { host: '127.0.0.1' }),
    });
  }

  it('ok/right-password-200', async () => {
    const t = transport('Passw0rd!');
    try {
      const res = await t.request({ method: 'GET', path: '/certsrv/' });
      expect(res.status).toBe(200);
    } finally { await t.close(); }
  });

  it('ok/one-handshake-serves-many-requests', async () => {
    const t = transport('Passw0rd!');
    try {
      for (let i = 0; i < 5; i++) await t.request({ method: 'GET', path: '/certsrv/' });
      expect(t.stats.handshakes).toBe(1);
    } finally { await t.close(); }
  });

  it('fail/wrong-password-401', async () => {
    const t = transport('wrong');
    try {
      const err = await t.request({ method: 'GET', path: '/certsrv/' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AdcsError);
      expect({ code: (err as AdcsError).code, status: (err as AdcsError).httpStatus }).toEqual({ code: 'ADCS_AUTH_FAILED', status: 401 });
    } finally { await t.close(); }
  });

  it('fail/tampered-mic-401', async () => {
    const t = transport('Passw0rd!', tampered(MIC_OFFSET));
    try {
      const err = await t.request({ method: 'GET', path: '/certsrv/' }).catch((e: unknown) => e);
      expect((err as AdcsError).httpStatus).toBe(401);
    } finally { await t.close(); }
  });
});
