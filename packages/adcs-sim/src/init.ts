/**
 * `certbridge-adcs-sim --init <dir>`: writes the sample configuration SPEC names (domain CORP,
 * alice/bob/admin, templates WebServer, User, SubCA, ManagerApproval, port 9443) with a fresh
 * admin token, creates the CA state, and exports the CA chain.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { SimConfigInput } from './config.ts';
import { startAdcsSim } from './index.ts';

export const SAMPLE_PASSWORD = 'Passw0rd!';

/** The sample sim.json; `$comment` keys document it and are ignored by the schema. */
export function sampleConfig(adminToken: string): SimConfigInput & Record<string, unknown> {
  return {
    $comment: 'certbridge-adcs-sim configuration. See packages/adcs-sim/README.md for every field.',
    host: 'localhost',
    listen: '127.0.0.1',
    port: 9443,
    domain: 'CORP',
    dnsDomain: 'corp.example.test',
    caName: 'corp-SIM-CA',
    rootCaName: 'corp-SIM-ROOT-CA',
    caManager: 'admin',
    adminToken,
    stateFile: 'state.json',
    users: [
      { name: 'alice', password: SAMPLE_PASSWORD, groups: ['Web Admins'] },
      { name: 'bob', password: SAMPLE_PASSWORD },
      { name: 'admin', password: SAMPLE_PASSWORD, groups: ['Domain Admins'] },
    ],
    templates: [
      { cn: 'WebServer', displayName: 'Web Server', schemaVersion: 1, enroll: ['alice'], validityDays: 730, subject: 'request' },
      {
        cn: 'User',
        schemaVersion: 1,
        enroll: ['bob'],
        subject: 'account',
        keyUsage: ['digitalSignature', 'keyEncipherment'],
        extendedKeyUsage: ['1.3.6.1.4.1.311.10.3.4', '1.3.6.1.5.5.7.3.4', '1.3.6.1.5.5.7.3.2'],
      },
      {
        cn: 'SubCA',
        displayName: 'Subordinate Certification Authority',
        schemaVersion: 1,
        enroll: ['alice'],
        isCa: true,
        validityDays: 1825,
        keyUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'],
        extendedKeyUsage: [],
      },
      { cn: 'ManagerApproval', displayName: 'Manager Approval', schemaVersion: 2, enroll: ['alice'], issuance: 'manager' },
    ],
    caFlags: { attributeEndDate: true, attributeSubjectAltName2: false },
    auth: { ntlm: true, negotiate: false, basic: false, epa: 'off' },
  };
}

export interface InitResult {
  configPath: string;
  chainPath: string;
  url: string;
  adminToken: string;
}

/** Writes sim.json, state.json (CA keys) and ca-chain.pem into `dir`. */
export async function initSample(dir: string): Promise<InitResult> {
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true });
  const adminToken = randomBytes(24).toString('base64url');
  const config = sampleConfig(adminToken);
  const configPath = join(abs, 'sim.json');
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // Start once on a free port to generate the CA into the state file, then stop.
  const sim = await startAdcsSim({ ...config, port: 0, stateFile: join(abs, 'state.json') });
  const chainPath = join(abs, 'ca-chain.pem');
  await writeFile(chainPath, sim.caChainPem);
  await sim.stop();
  return { configPath, chainPath, url: `https://${config.host ?? 'localhost'}:${config.port ?? 9443}/certsrv/`, adminToken };
}
