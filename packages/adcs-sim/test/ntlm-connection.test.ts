/**
 * NTLM is connection-bound (as on IIS): an AUTHENTICATE message is only good on the TCP
 * connection that received the CHALLENGE. A minimal NTLMv2 client built from the emulator's own
 * primitives drives both cases with Node's https client.
 */
import { Agent, request } from 'node:https';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdcsSim, type AdcsSim } from '../src/index.ts';
import { ntowfv2 } from '../src/auth/ntlm/ntlmv2.ts';
import { Flags } from '../src/auth/ntlm/messages.ts';
import { testConfig, PASSWORD } from './helpers.ts';

let sim: AdcsSim;
beforeAll(async () => {
  sim = await startAdcsSim(testConfig({ auth: { ntlm: true, basic: false } }));
});
afterAll(async () => sim.stop());

function get(agent: Agent | false, authorization: string): Promise<{ status: number; auth: string }> {
  return new Promise((resolve, reject) => {
    const req = request(sim.url, { ca: sim.tlsCaPem, agent, headers: { authorization } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, auth: String(res.headers['www-authenticate'] ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const FLAGS = Flags.UNICODE | Flags.NTLM | Flags.EXTENDED_SESSIONSECURITY | Flags.TARGET_INFO | Flags.REQUEST_TARGET;

function negotiate(): string {
  const m = Buffer.alloc(32);
  m.write('NTLMSSP\0', 0, 'latin1');
  m.writeUInt32LE(1, 8);
  m.writeUInt32LE(FLAGS, 12);
  return `NTLM ${m.toString('base64')}`;
}

/** AUTHENTICATE_MESSAGE with an NTLMv2 response to `challengeHeader` ([MS-NLMP] 3.3.2). */
function authenticate(challengeHeader: string): string {
  const ch = Buffer.from(challengeHeader.slice('NTLM '.length), 'base64');
  const serverChallenge = ch.subarray(24, 32);
  const targetInfo = ch.subarray(ch.readUInt32LE(44), ch.readUInt32LE(44) + ch.readUInt16LE(40));
  const key = ntowfv2(PASSWORD, 'alice', 'CORP');
  const stamp = Buffer.alloc(8);
  stamp.writeBigUInt64LE((BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n);
  const temp = Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), stamp, randomBytes(8), Buffer.alloc(4), targetInfo, Buffer.alloc(4)]);
  const proof = createHmac('md5', key).update(serverChallenge).update(temp).digest();
  const fields = [Buffer.alloc(24), Buffer.concat([proof, temp]), Buffer.from('CORP', 'utf16le'), Buffer.from('alice', 'utf16le'), Buffer.alloc(0), Buffer.alloc(0)];
  const header = Buffer.alloc(72);
  header.write('NTLMSSP\0', 0, 'latin1');
  header.writeUInt32LE(3, 8);
  let offset = 72;
  fields.forEach((f, i) => {
    header.writeUInt16LE(f.length, 12 + i * 8);
    header.writeUInt16LE(f.length, 14 + i * 8);
    header.writeUInt32LE(offset, 16 + i * 8);
    offset += f.length;
  });
  header.writeUInt32LE(FLAGS, 60);
  return `NTLM ${Buffer.concat([header, ...fields]).toString('base64')}`;
}

describe('NTLM connection binding', () => {
  it('fail/AUTHENTICATE moved to another connection → 401, while the challenged connection gets 200', async () => {
    const a = new Agent({ keepAlive: true, maxSockets: 1 });
    const b = new Agent({ keepAlive: true, maxSockets: 1 });
    const challengeA = await get(a, negotiate());
    await get(b, negotiate());
    const onOther = await get(b, authenticate(challengeA.auth));
    const challengeA2 = await get(a, negotiate());
    const onSame = await get(a, authenticate(challengeA2.auth));
    a.destroy();
    b.destroy();
    expect([challengeA.status, onOther.status, onSame.status]).toEqual([401, 401, 200]);
  });
});
