/**
 * Persistence of the emulator's state (CA keys, request table, run-time overrides) in one JSON
 * file, written atomically (temp file + rename) so a crash never leaves half a file.
 */
import { readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredCa } from '../ca/authority.ts';
import type { RequestSnapshot } from './requests.ts';
import { z } from 'zod';
import { caFlagsSchema, templateSchema, type CaFlags, type TemplateConfig } from '../config.ts';

const overridesSchema = z.object({ caFlags: caFlagsSchema.optional(), templates: z.array(templateSchema).optional() }).optional();

export interface SimState {
  version: 1;
  ca: StoredCa;
  requests: RequestSnapshot;
  /** Run-time changes made through /sim/ (they survive a restart). */
  overrides?: { caFlags?: CaFlags; templates?: TemplateConfig[] };
}

/** Reads the state file; `undefined` when it does not exist yet. A corrupt file is an error. */
export async function readState(path: string): Promise<SimState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: state file is not valid JSON (${(err as Error).message}); move it away to start afresh`);
  }
  const candidate = parsed as Partial<SimState> | null;
  const looksRight =
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.version === 1 &&
    typeof candidate.ca?.issuing?.certificate === 'string' &&
    typeof candidate.ca?.root?.certificate === 'string' &&
    Array.isArray(candidate.requests?.requests) &&
    typeof candidate.requests?.nextRequestId === 'number';
  if (!looksRight) throw new Error(`${path}: not an adcs-sim state file (version 1 with ca and requests)`);
  // Run-time overrides are configuration: validate them with the config schemas, never cast.
  const overrides = overridesSchema.safeParse(candidate.overrides);
  if (!overrides.success) throw new Error(`${path}: invalid overrides (${overrides.error.issues[0]?.message ?? 'unknown'})`);
  return { ...(parsed as SimState), overrides: overrides.data };
}

/** Serialises writes so concurrent changes never interleave on disk. */
export class StateWriter {
  private pending: Promise<void> = Promise.resolve();
  private seq = 0;

  constructor(private readonly path: string | undefined, private readonly build: () => SimState) {}

  schedule(): Promise<void> {
    if (!this.path) return Promise.resolve();
    const path = this.path;
    this.pending = this.pending.then(async () => {
      const tmp = `${path}.${process.pid}.${this.seq++}.tmp`;
      await mkdir(dirname(path), { recursive: true });
      await writeFile(tmp, JSON.stringify(this.build(), null, 2), { mode: 0o600 });
      await rename(tmp, path);
    });
    return this.pending;
  }

  flush(): Promise<void> {
    return this.pending;
  }
}
