import fc from 'fast-check';
import { expect } from 'vitest';

/**
 * Shared generators and the one property of the parser fuzz tests (issue 10). Random bytes alone
 * rarely get past a DER or NTLM header, so most cases start from a VALID message and damage it:
 * truncation, bit flips, spliced garbage, a rewritten length octet, duplicated slices. That keeps
 * the fuzzer inside the parser's deeper branches where the library errors hide.
 */

/** Cases per property: 2,000 in CI, `FUZZ_RUNS=100000` in bench mode. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
/** Cases per HTTP endpoint (each one is an `app.inject`, so a tenth of the parser budget, at least 200). */
export const HTTP_RUNS = Math.max(200, Math.floor(FUZZ_RUNS / 10));
/** A fixed seed per run unless FUZZ_SEED says otherwise, so CI failures replay. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 0x10c0ffee);

export const fuzzParams = (numRuns = FUZZ_RUNS): fc.Parameters<unknown> => ({ numRuns, seed: FUZZ_SEED, endOnFailure: true });

/**
 * Checks a synchronous property `numRuns` times, in chunks of 2,000 (seeds FUZZ_SEED, +1, …) with a
 * macrotask between them: one 100,000-case run blocks the test worker for minutes, and vitest
 * then fails the file on its own RPC timeout although every case passed. The CI size is one chunk.
 */
export async function fuzz<Ts extends [unknown, ...unknown[]]>(prop: fc.IProperty<Ts>, numRuns = FUZZ_RUNS): Promise<void> {
  const CHUNK = 2000;
  for (let done = 0, i = 0; done < numRuns; done += CHUNK, i++) {
    fc.assert(prop, { numRuns: Math.min(CHUNK, numRuns - done), seed: FUZZ_SEED + i, endOnFailure: true });
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const flip = (v: Uint8Array, positions: number[], bits: number[]): Uint8Array => {
  const out = Uint8Array.from(v);
  positions.forEach((p, i) => { if (out.length) out[p % out.length]! ^= 1 << (bits[i]! % 8); });
  return out;
};

/** Structure-blind damage of one valid message. */
export function mutationsOf(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const n = Math.max(1, valid.length);
  return fc.oneof(
    fc.integer({ min: 0, max: n }).map((cut) => valid.subarray(0, cut)),
    fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(7), { minLength: 6, maxLength: 6 })).map(([p, b]) => flip(valid, p, b)),
    fc.tuple(fc.nat(n), fc.nat(16), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([at, drop, junk]) => concat(valid.subarray(0, at), junk, valid.subarray(Math.min(n, at + drop)))),
    // A length octet near the front (outer SEQUENCE, first inner header) set to anything, e.g. 0x84 0xff…
    fc.tuple(fc.integer({ min: 1, max: Math.min(8, n) }), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => { const o = Uint8Array.from(valid); if (at < o.length) o[at] = byte; return o; }),
    fc.tuple(fc.nat(n), fc.nat(n)).map(([a, b]) => concat(valid, valid.subarray(Math.min(a, b), Math.max(a, b)))),
    fc.uint8Array({ maxLength: 32 }).map((tail) => concat(valid, tail)),
  );
}

/** Random bytes plus mutations of every valid sample, the valid samples themselves included. */
export function bytesFrom(valid: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
    { weight: 1, arbitrary: fc.constantFrom(...valid) },
    ...valid.map((v) => ({ weight: 6, arbitrary: mutationsOf(v) })),
  );
}

/** Text damage for HTML/JSON/base64 inputs: cut, splice, duplicate, random unicode. */
export function textFrom(valid: string[]): fc.Arbitrary<string> {
  const one = (v: string): fc.Arbitrary<string> => fc.oneof(
    fc.nat(v.length).map((cut) => v.slice(0, cut)),
    fc.tuple(fc.nat(v.length), fc.nat(40), fc.string({ unit: 'binary', maxLength: 40 })).map(([at, drop, junk]) => v.slice(0, at) + junk + v.slice(at + drop)),
    fc.tuple(fc.nat(v.length), fc.nat(v.length)).map(([a, b]) => v.slice(0, Math.min(a, b)) + v.slice(Math.max(a, b))),
    fc.tuple(fc.nat(v.length), fc.constantFrom('<', '>', '"', "'", '&#', '&#x', '\0', '\r\n', '0x8009', 'Request Id:', '<td>', '</td>', '{', '}', '[', '"')).map(([at, s]) => v.slice(0, at) + s + v.slice(at)),
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    { weight: 1, arbitrary: fc.constantFrom(...valid) },
    ...valid.map((v) => ({ weight: 6, arbitrary: one(v) })),
  );
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * The property: `fn(input)` returns, or throws an instance of one of `allowed`. A TypeError,
 * RangeError or any other class (a library's own error leaking) fails the case with the input in hex.
 * `exact` also refuses subclasses, for modules whose documented error is a plain `Error`.
 */
export function returnsOrThrows(allowed: ErrorClass[], fn: () => unknown, input: unknown, exact = false): void {
  try {
    fn();
  } catch (err) {
    const ok = allowed.some((cls) => (exact ? (err as object)?.constructor === cls : err instanceof cls));
    if (!ok) {
      const shown = input instanceof Uint8Array ? Buffer.from(input).toString('hex') : JSON.stringify(input);
      expect.fail(`${(err as Error)?.constructor?.name}: ${(err as Error)?.message} — input ${shown?.slice(0, 2000)}\n${(err as Error)?.stack}`);
    }
  }
}

/** The same for async parsers. */
export async function resolvesOrRejects(allowed: ErrorClass[], fn: () => Promise<unknown>, input: unknown): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!allowed.some((cls) => err instanceof cls)) {
      expect.fail(`${(err as Error)?.constructor?.name}: ${(err as Error)?.message} — input ${JSON.stringify(input)?.slice(0, 2000)}\n${(err as Error)?.stack}`);
    }
  }
}
