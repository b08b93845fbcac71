import { createHash, X509Certificate } from 'node:crypto';
import https from 'node:https';
import { buildCsr, generateKeyPair, parseDn, pemDecodeAll, pemEncode } from '@certbridge/pki';
import { z } from 'zod';
import { agentFor } from './proxy.ts';
import { saveState, type ConnectorState } from './state.ts';
import { CONNECTOR_VERSION } from './version.ts';

const answer = z.object({ id: z.string().uuid(), name: z.string(), certificatePem: z.string(), serverCaPem: z.string() });

/** Splits `cbc1.<secret>.<sha256 hex of the CA that issued the server's TLS certificate>`. */
export function parseToken(token: string): { pin: string } {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'cbc1' || !/^[0-9a-f]{64}$/.test(parts[2] ?? '')) throw new Error('not a Certbridge connector registration token (cbc1.…)');
  return { pin: parts[2]! };
}

function request(url: URL, method: 'GET' | 'POST', ca: string | undefined, body?: string, env?: NodeJS.ProcessEnv): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method, agent: agentFor(url, env) ?? false, ...(ca ? { ca, rejectUnauthorized: true } : { rejectUnauthorized: false }),
      headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {},
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Trust on first contact, pinned by the token: the server's CA chain is fetched without
 * verification (nothing secret is sent), accepted only if it holds the certificate whose SHA-256
 * is in the token, and from then on the only trust anchor: the token itself travels on a fully
 * verified connection (chain and host name).
 */
export async function pinnedServerCa(server: URL, pin: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const res = await request(new URL('/connector/v1/ca', server), 'GET', undefined, undefined, env);
  const pem = res.status === 200 ? z.object({ serverCaPem: z.string() }).parse(JSON.parse(res.text)).serverCaPem : '';
  const ders = pem ? pemDecodeAll(pem) : [];
  const pinned = ders.some((d) => createHash('sha256').update(d).digest('hex') === pin);
  if (!pinned) throw new Error(`the server at ${server.origin} does not present the CA the token pins (wrong server, or a TLS-intercepting proxy)`);
  return ders.map((d) => new X509Certificate(d).toString()).join('');
}

/**
 * `certbridge-connector register`: key generated here, CSR to the server, state saved with mode
 * 0600. Goes through `HTTPS_PROXY` like `run` (`env` defaults to the process environment).
 */
export async function register(opts: { server: string; token: string; dir: string; name?: string; env?: NodeJS.ProcessEnv }): Promise<ConnectorState> {
  const url = new URL(opts.server);
  if (url.protocol !== 'https:') throw new Error('--server must be an https:// URL');
  const { pin } = parseToken(opts.token);
  const serverCaPem = await pinnedServerCa(url, pin, opts.env);
  const pair = generateKeyPair('EC-P256');
  const csr = pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${opts.name ?? 'certbridge-connector'}`), privateKey: pair.privateKey, publicKey: pair.publicKey }));
  const res = await request(new URL('/connector/v1/register', url), 'POST', serverCaPem, JSON.stringify({ token: opts.token, csr, version: CONNECTOR_VERSION }), opts.env);
  if (res.status !== 200) throw new Error(`registration refused (HTTP ${res.status}): ${res.text.slice(0, 300)}`);
  const a = answer.parse(JSON.parse(res.text));
  const state: ConnectorState = {
    server: url.origin, id: a.id, name: a.name, certificatePem: a.certificatePem, serverCaPem,
    keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  await saveState(opts.dir, state);
  return state;
}
