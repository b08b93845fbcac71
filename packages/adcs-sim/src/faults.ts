/**
 * Fault injection for failover and resilience tests: added latency, HTTP 500/503 answers,
 * connection resets (before the request is handled, or after it: the CA acted but its answer is
 * lost), and TLS certificates that a client must reject. Faults apply to /certsrv traffic only
 * (optionally to one page); the /sim/ admin API keeps working so a test can clear them.
 */
import { z } from 'zod';

export const faultsSchema = z.object({
  /** Milliseconds added before every /certsrv answer. */
  latencyMs: z.number().int().min(0).max(600_000).default(0),
  /** Answer /certsrv requests with this status (IIS 500 page or HTTP.sys 503 page). */
  httpStatus: z.union([z.literal(500), z.literal(503)]).optional(),
  /** Reset the TCP connection (RST) instead of handling the request. */
  reset: z.boolean().default(false),
  /**
   * Handle the request (the CA records it, and may issue), then reset the connection instead of
   * answering: the answer is lost, as when a server or the network between fails at that moment.
   */
  loseAnswer: z.boolean().default(false),
  /** Limit the status/reset/loseAnswer faults to this certsrv page (e.g. `certfnsh.asp`, `certnew.cer`); others pass. */
  page: z.string().min(1).optional(),
  /** Serve this TLS certificate on new connections. */
  tls: z.enum(['valid', 'expired', 'wrong-host', 'self-signed']).default('valid'),
  /** How many requests the status/reset/loseAnswer faults affect; absent = until cleared. */
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

  /** Before a request is handled: consumes one unit of `count` and returns what the request suffers. */
  next(page: string): FaultAction {
    const f = this.faults;
    if ((!f.reset && f.httpStatus === undefined) || !this.applies(page)) return { kind: 'none' };
    this.consume();
    return f.reset ? { kind: 'reset' } : { kind: 'status', status: f.httpStatus ?? 500 };
  }

  /** After a request was handled: true when its answer is to be lost (consumes one unit of `count`). */
  loseAnswer(page: string): boolean {
    if (!this.faults.loseAnswer || !this.applies(page)) return false;
    this.consume();
    return true;
  }

  private applies(page: string): boolean {
    return this.faults.page === undefined || this.faults.page.toLowerCase() === page.toLowerCase();
  }

  private consume(): void {
    const f = this.faults;
    if (f.count === undefined) return;
    const left = f.count - 1;
    this.faults = left > 0 ? { ...f, count: left } : { ...f, count: undefined, reset: false, loseAnswer: false, httpStatus: undefined };
  }
}

export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
