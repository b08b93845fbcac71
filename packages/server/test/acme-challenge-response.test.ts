import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME_ORIGIN, startAcmeTestbed, type AcmeTestbed } from './acme-testbed.ts';
import { TestAcmeClient } from './acme-test-client.ts';
import { ENGINES, type TestEnv } from './helpers.ts';

const ORIGIN = ACME_ORIGIN;

/**
 * Challenge responses (RFC 8555 section 7.5.1) against a real challenge server: the answer with the
 * outcome, ownership, the first attempt before any write, its sharing, the claim when it is slow or
 * fails, retries, and authorizations settled at the same moment.
 */
describe.each(ENGINES)('ACME challenge responses on %s', (engine) => {
  let bed: AcmeTestbed;
  let env: TestEnv;
  let app: FastifyInstance;
  let tokens: AcmeTestbed['tokens'];
  let flaky: AcmeTestbed['flaky'];
  let onFetch: AcmeTestbed['onFetch'];

  beforeAll(async () => {
    bed = await startAcmeTestbed(engine);
    ({ env, app, tokens, flaky, onFetch } = bed);
  });
  afterAll(async () => {
    await bed?.close();
  });

  const client = () => TestAcmeClient.create(app, ORIGIN, 'default-tls');

  /** A registered client's order for `name`, and its http-01 challenge, published on the challenge server. */
  async function answerableChallenge(name: string, on = app) {
    const c = await TestAcmeClient.create(on, ORIGIN, 'default-tls');
    await c.register();
    const order = (await c.newOrder([{ type: 'dns', value: name }])).json<{ authorizations: string[] }>();
    const ch = (await c.post(order.authorizations[0]!, null)).json<{ challenges: { type: string; url: string; token: string }[] }>().challenges.find((x) => x.type === 'http-01')!;
    tokens.set(ch.token, `${ch.token}.${await c.thumbprint()}`);
    return { c, order, ch };
  }

  /** The challenge row as stored now. */
  const storedChallenge = (url: string) => env.core.db.withTables<{ acme_challenges: { id: string; status: string; attempts: number; claimed_at: Date | null } }>()
    .selectFrom('acme_challenges').select(['status', 'attempts', 'claimed_at']).where('id', '=', url.split('/').pop()!).executeTakeFirstOrThrow();

  it('fail/a challenge response signed by another account is notFound and claims nothing; the owner\'s second response answers the settled challenge', async () => {
    const { c, order, ch } = await answerableChallenge('owned.acme.test');
    const other = await client();
    await other.register();
    const stranger = await other.post(ch.url, {});
    const untouched = (await c.post(ch.url, null)).json()['status'];
    const first = (await c.post(ch.url, {})).json()['status'];
    const second = await c.post(ch.url, {});
    expect([stranger.status, stranger.json()['detail'], untouched, first, second.status, second.json()['status'], second.headers['link']]).toEqual([
      404, `no challenge ${ch.url.split('/').pop()} for this account`, 'pending', 'valid', 200, 'valid', expect.stringContaining(`<${order.authorizations[0]}>;rel="up"`),
    ]);
  });

  it('ok/authorizations of one order validated at the same moment leave the order ready', async () => {
    const c = await client();
    await c.register();
    const names = ['a.together.acme.test', 'b.together.acme.test', 'c.together.acme.test', 'd.together.acme.test'];
    const res = await c.newOrder(names.map((value) => ({ type: 'dns', value })));
    const order = res.json<{ authorizations: string[] }>();
    const thumb = await c.thumbprint();
    const urls: string[] = [];
    for (const authzUrl of order.authorizations) {
      const ch = (await c.post(authzUrl, null)).json<{ challenges: { type: string; url: string; token: string }[] }>().challenges.find((x) => x.type === 'http-01')!;
      tokens.set(ch.token, `${ch.token}.${thumb}`);
      urls.push(ch.url);
    }
    const answers = await Promise.all(urls.map((url) => c.post(url, {})));
    expect(answers.map((a) => a.status)).toEqual(urls.map(() => 200));
    for (const authzUrl of order.authorizations) expect((await c.pollUntil(authzUrl, ['pending', 'processing']))['status']).toBe('valid');
    expect((await c.pollUntil(String(res.headers['location']), ['pending']))['status']).toBe('ready');
  });

  it('ok/a validation that passes at once runs before anything is written, is settled valid from pending, and answers the response with its outcome', async () => {
    const { c, order, ch } = await answerableChallenge('at-once.acme.test');
    let duringFetch: Awaited<ReturnType<typeof storedChallenge>> | undefined;
    onFetch.set(ch.token, async () => void (duringFetch = await storedChallenge(ch.url)));
    const answer = (await c.post(ch.url, {})).json();
    expect([duringFetch?.status, duringFetch?.claimed_at, answer['status'], typeof answer['validated']]).toEqual(['pending', null, 'valid', 'string']);
    expect(await storedChallenge(ch.url)).toMatchObject({ status: 'valid', attempts: 0, claimed_at: expect.any(Date) });
    expect((await c.post(order.authorizations[0]!, null)).json()['status']).toBe('valid');
  });

  it('ok/responses repeated while the first attempt runs share it: one request to the host, every answer valid', async () => {
    const { c, order, ch } = await answerableChallenge('repeated.acme.test');
    let fetches = 0;
    onFetch.set(ch.token, async () => {
      fetches++;
      await new Promise((resolve) => setTimeout(resolve, 150));
    });
    const answers = await Promise.all(Array.from({ length: 5 }, () => c.post(ch.url, {})));
    expect([fetches, ...answers.map((a) => a.json()['status'])]).toEqual([1, 'valid', 'valid', 'valid', 'valid', 'valid']);
  });

  it('ok/a first attempt slower than the answer wait is claimed when the wait ends: answered processing, then valid', async () => {
    const { c, order, ch } = await answerableChallenge('slow.acme.test');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    onFetch.set(ch.token, () => released);
    const answer = (await c.post(ch.url, {})).json();
    const whileSlow = await storedChallenge(ch.url);
    // A second response while the first attempt runs answers the claimed challenge as it stands, and starts nothing.
    const second = (await c.post(ch.url, {})).json();
    release();
    expect([answer['status'], whileSlow.status, whileSlow.claimed_at, second['status']]).toEqual(['processing', 'processing', expect.any(Date), 'processing']);
    expect((await c.pollUntil(order.authorizations[0]!, ['pending']))['status']).toBe('valid');
    expect(await storedChallenge(ch.url)).toMatchObject({ status: 'valid', attempts: 0 });
  });

  it('ok/a failed validation attempt is retried: the challenge stays processing, then turns valid', async () => {
    // The retry waits longer than a challenge response waits for the outcome (500 ms), so the response says processing.
    const retrying = await bed.withOptions({ retryDelaysMs: [0, 800], timeoutMs: 10_000 });
    try {
      const { c, order, ch } = await answerableChallenge('retry.acme.test', retrying);
      flaky.add(ch.token);
      expect((await c.post(ch.url, {})).json()['status']).toBe('processing');
      expect((await c.pollUntil(order.authorizations[0]!, ['pending']))['status']).toBe('valid');
      expect((await storedChallenge(ch.url)).attempts).toBe(1);
    } finally {
      await retrying.close();
    }
  });
});
