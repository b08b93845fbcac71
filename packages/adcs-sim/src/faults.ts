/**
 * Fault injection for failover and resilience tests: added latency, HTTP 500/503 answers,
 * connection resets, and TLS certificates that a client must reject. Faults apply to /certsrv
 * traffic only; the /sim/ admin API keeps working so a test can clear them.
 */
import { z } from 'zod';

export const faultsSchema = z.object({
  /** Milliseconds added before every /certsrv answer. */
  latencyMs: z.number().int().min(0).max(600_000).default(0),
  /** Answer /certsrv requests with this status (IIS 500 page or HTTP.sys 503 page). */
  httpStatus: z.union([z.literal(500), z.literal(503)]).optional(),
  /** Reset the TCP connection (RST) instead of answering. */
  reset: z.boolean().default(false),
  /** Serve this TLS certificate on new connections. */
  tls: z.enum(['valid', 'expired', 'wrong-host', 'self-signed']).default('valid'),
  /** How many /certsrv requests the status/reset faults affect; absent = until cleared. */
  count: z.number().int().positive().optional(),
});

export type Faults = z.output<typeof faultsSchema>;
export type FaultsInput = z.input<typeof faultsSchema>;

export type FaultAction = { kind: 'none' } | { kind: 'status'; status: 500 | 503 } | { kind: 'reset' };

/** Holds the active faults and decides what each incoming request suffers. */
export class FaultInjector {
  private faults: Faults = faultsSchema.parse({});

  get current(): Faults {
    return this.faults;
  }

  set(input: FaultsInput): Faults {
    this.faults = faultsSchema.parse(input);
    return this.faults;
  }

  /** Consumes one unit of `count` and returns the action for this request. */
  next(): FaultAction {
    const f = this.faults;
    if (!f.reset && f.httpStatus === undefined) return { kind: 'none' };
    if (f.count !== undefined) {
      const left = f.count - 1;
      this.faults = left > 0 ? { ...f, count: left } : { ...f, count: undefined, reset: false, httpStatus: undefined };
    }
    return f.reset ? { kind: 'reset' } : { kind: 'status', status: f.httpStatus ?? 500 };
  }
}

export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
