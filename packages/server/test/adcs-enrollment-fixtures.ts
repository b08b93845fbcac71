import fs from 'node:fs/promises';
import path from 'node:path';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { parseCertificate, pemDecode } from '@certbridge/pki';
import { SIM_PASSWORD, simConfig, startSim } from './adcs-fixtures.ts';
import { startEnrollmentServer, tool, type EnrollmentServer } from './enrollment-fixtures.ts';

/**
 * The real server (its own process state, real listeners, real background jobs) in front of an
 * adcs-sim whose `ManagerApproval` template pends every request, with EST (Basic) and SCEP
 * (static challenge) enabled on the profile `adcs-approval`; requests are approved or denied
 * through the sim's admin API over HTTPS, with curl, as a CA manager's tooling would.
 */
export const ADCS_PROFILE = 'adcs-approval';
export const EST_USER = 'device';
export const EST_PASSWORD = 'est adcs secret 1';
export const SCEP_CHALLENGE = 'scep adcs challenge 1';

export interface AdcsEnrollment {
  env: EnrollmentServer;
  sim: AdcsSim;
  /** The SCEP RA certificate (DER) of the profile. */
  raCert: Uint8Array;
  /** Subject of the sim's issuing CA (issuer of every certificate it issues). */
  adcsIssuer: string;
  /** ADCS request id of the newest order, once the CA has answered it. */
  latestRequestId(): Promise<number>;
  /** Waits until there are `n` orders with an ADCS request id on the profile (a client running in the background submitted). */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  /** POST /sim/requests/{id}/approve or /deny with the admin token; the sim's answer status. */
  decide(id: number, decision: 'approve' | 'deny'): Promise<number>;
  close(): Promise<void>;
}

async function api(env: EnrollmentServer, method: string, p: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await env.api(method, p, body);
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

export async function startAdcsEnrollment(prefix: string): Promise<AdcsEnrollment> {
  const config = simConfig();
  const sim = await startSim();
  const env = await startEnrollmentServer(prefix);
  const db = env.server.core.db;
  const orders = () => db.selectFrom('orders').innerJoin('profiles', 'profiles.id', 'orders.profile_id')
    .where('profiles.slug', '=', ADCS_PROFILE).where('orders.ca_request_id', 'is not', null);
  try {
    const conn = await api(env, 'POST', '/api/v1/connections', {
      name: 'sim', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 5000,
    });
    // No quick re-asks: the first answer is PENDING at once, and the clients follow up themselves.
    const ca = await api(env, 'POST', '/api/v1/cas/adcs', { name: 'corp-adcs', servers: [{ connection: conn['id'], priority: 1 }], settings: { quickRetries: 0 } });
    await api(env, 'POST', '/api/v1/profiles', { slug: ADCS_PROFILE, ca: ca['id'], policy: 'permissive', template: 'ManagerApproval' });
    const app = await api(env, 'GET', '/api/v1/applications/default');
    await api(env, 'PATCH', '/api/v1/applications/default', { profiles: [...(app['profiles'] as { slug: string }[]).map((p) => p.slug), ADCS_PROFILE] });
    const settings = await api(env, 'PUT', `/api/v1/applications/default/enrollment/${ADCS_PROFILE}`, {
      est: { enabled: true, auth: 'basic', username: EST_USER, password: EST_PASSWORD }, scep: { enabled: true, challenge: 'static', staticChallenge: SCEP_CHALLENGE },
    });
    const raCert = pemDecode((settings['scep'] as { raCertificate: string }).raCertificate, 'CERTIFICATE');
    await fs.writeFile(path.join(env.work, 'sim-tls.pem'), sim.tlsCaPem);
    const adcsIssuer = parseCertificate(pemDecode(sim.caChainPem.split(/(?<=-----END CERTIFICATE-----)/)[0]!.trim(), 'CERTIFICATE')).subjectText;
    const base = new URL(sim.url).origin;
    return {
      env, sim, raCert, adcsIssuer,
      latestRequestId: async () => Number((await orders().select('orders.ca_request_id').orderBy('orders.created_at', 'desc').limit(1).executeTakeFirstOrThrow()).ca_request_id),
      async waitForRequests(n, timeoutMs = 30_000) {
        const end = Date.now() + timeoutMs;
        for (;;) {
          const count = Number((await orders().select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
          if (count >= n) return;
          if (Date.now() > end) throw new Error(`only ${count} of ${n} ADCS requests after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      async decide(id, decision) {
        const r = await tool('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', 'sim-tls.pem', '-X', 'POST', '-H', `Authorization: Bearer ${config.adminToken}`, `${base}/sim/requests/${id}/${decision}`], env.work);
        return Number(r.out);
      },
      close: async () => {
        await env.close();
        await sim.stop();
      },
    };
  } catch (err) {
    await env.close();
    await sim.stop();
    throw err;
  }
}

/** Resolves after `ms` (the clients' own pauses between retries). */
export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
