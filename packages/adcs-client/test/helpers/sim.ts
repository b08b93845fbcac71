/** Emulator fixture for end-to-end tests: the CORP domain of the SPEC sample, per-test instances. */
import { startAdcsSim, type AdcsSim, type SimConfigInput } from '@certbridge/adcs-sim';
import { AdcsClient } from '../../src/client.ts';
import type { AdcsClientOptions } from '../../src/options.ts';

export const PASSWORD = 'Passw0rd!';

export function simConfig(extra: Partial<SimConfigInput> = {}): SimConfigInput {
  return {
    host: 'localhost',
    port: 0,
    domain: 'CORP',
    adminToken: 'adcs-client-test-token-0123456789',
    users: [
      { name: 'alice', password: PASSWORD },
      { name: 'bob', password: PASSWORD },
      { name: 'admin', password: PASSWORD },
    ],
    templates: [
      { cn: 'WebServer', displayName: 'Web Server', enroll: ['alice'] },
      { cn: 'User', displayName: 'User', schemaVersion: 1, enroll: ['bob'], subject: 'account' },
      { cn: 'SubCA', displayName: 'Subordinate Certification Authority', enroll: ['alice'], isCa: true },
      { cn: 'ManagerApproval', displayName: 'Manager Approval', enroll: ['alice'], issuance: 'manager' },
    ],
    auth: { basic: true, ntlm: true },
    ...extra,
  };
}

export function startSim(extra: Partial<SimConfigInput> = {}): Promise<AdcsSim> {
  return startAdcsSim(simConfig(extra));
}

export function clientFor(sim: AdcsSim, overrides: Partial<AdcsClientOptions> = {}): AdcsClient {
  return new AdcsClient({
    baseUrl: sim.url,
    username: 'alice',
    password: PASSWORD,
    domain: 'CORP',
    auth: 'basic',
    ca: sim.tlsCaPem,
    timeoutMs: 10_000,
    ...overrides,
  });
}
