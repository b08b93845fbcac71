/**
 * Transport behaviour that real servers rarely show on demand, driven by a scripted
 * connection-bound NTLM server (it checks message types, not cryptography: the NTLM
 * cryptography is proven against Apache/gss-ntlmssp and the emulator):
 * re-authentication when IIS answers 401 on an authenticated connection, a server that closes
 * the connection between handshake legs, and a malformed CHALLENGE_MESSAGE.
 */
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transport } from '../src/http/transport.ts';
import { ntlmAuth } from '../src/auth/ntlm/http-ntlm.ts';
import { isAdcsError } from '../src/errors.ts';
import { challengeMessage } from './helpers/ntlm-challenge.ts';
import { createTestPki, type TestPki } from './helpers/pki.ts';

const behaviour = { forgetOnce: false, closeAfterChallenge: false, garbageChallenge: false };
const authed = new WeakSet<Socket>();
let server: https.Server;
let pki: TestPki;

beforeAll(async () => {
  pki = await createTestPki();
  const cert = await pki.issue({ ips: ['127.0.0.1'] });
  server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const header = req.headers.authorization ?? '';
    const type = header.startsWith('NTLM ') ? Buffer.from(header.slice(5), 'base64').readUInt32LE(8) : 0;
    const socket = req.socket;
    if (type === 1) {
      const token = behaviour.garbageChallenge ? Buffer.from('this is not an NTLM message, not at all') : challengeMessage();
      const headers: Record<string, string> = { 'WWW-Authenticate': `NTLM ${token.toString('base64')}` };
      if (behaviour.closeAfterChallenge) headers.Connection = 'close';
      res.writeHead(401, headers).end();
      return;
    }
    if (type === 3) authed.add(socket);
    if (authed.has(socket) && behaviour.forgetOnce && type === 0) {
      behaviour.forgetOnce = false;
      authed.delete(socket);
    }
    if (!authed.has(socket)) {
      res.writeHead(401, { 'WWW-Authenticate': 'NTLM' }).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => { await new Promise((r) => server.close(r)); });

function transport(): Transport {
  return new Transport({
    baseUrl: new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ca: pki.root.certPem, rejectUnauthorized: true, timeoutMs: 5_000, maxSockets: 1,
    auth: ntlmAuth({ username: 'alice', password: 'x', domain: 'CORP' }),
  });
}

describe('connection-bound authentication', () => {
  it('ok/reauthenticates-when-server-answers-401-on-authenticated-connection', async () => {
    const t = transport();
    try {
      await t.request({ method: 'GET', path: '/a' });
      behaviour.forgetOnce = true;
      const res = await t.request({ method: 'GET', path: '/b' });
      expect({ status: res.status, handshakes: t.stats.handshakes }).toEqual({ status: 200, handshakes: 2 });
    } finally {
      behaviour.forgetOnce = false;
      await t.close();
    }
  });

  it('fail/server-closes-connection-between-legs', async () => {
    behaviour.closeAfterChallenge = true;
    const t = transport();
    try {
      const err = await t.request({ method: 'GET', path: '/a' }).catch((e: unknown) => e);
      expect(isAdcsError(err) ? [err.code, err.message.startsWith('the server closed the connection during the NTLM handshake')] : err).toEqual(['ADCS_AUTH_FAILED', true]);
    } finally {
      behaviour.closeAfterChallenge = false;
      await t.close();
    }
  });

  it('fail/malformed-challenge-from-server', async () => {
    behaviour.garbageChallenge = true;
    const t = transport();
    try {
      const err = await t.request({ method: 'GET', path: '/a' }).catch((e: unknown) => e);
      expect(isAdcsError(err) ? [err.code, err.message] : err).toEqual(['ADCS_AUTH_FAILED', 'authentication failed: CHALLENGE_MESSAGE lacks the NTLMSSP signature']);
    } finally {
      behaviour.garbageChallenge = false;
      await t.close();
    }
  });
});
