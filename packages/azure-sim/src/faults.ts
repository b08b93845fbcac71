/**
 * Fault injection and the call log. A fault answers the next `count` matching requests of a
 * service with an error status (each service renders it in its own error format, with
 * `Retry-After` for 429 and 503) and/or delays them.
 */
export type Service = 'entra' | 'graph' | 'vault';

export interface FaultSpec {
  /** Which emulated service; `all` matches every one. Default `all`. */
  service?: Service | 'all';
  /** 429, 503, 500 or 403. Omit for a latency-only fault. */
  status?: 429 | 500 | 503 | 403;
  /** How many matching requests the fault applies to. Default 1. */
  count?: number;
  /** `Retry-After` seconds sent with 429 and 503. Default 1. */
  retryAfterSeconds?: number;
  /** Delay before answering, in milliseconds. */
  latencyMs?: number;
  /** Only requests whose path contains this text (e.g. `/oauth2/v2.0/token`, `/import`). */
  pathContains?: string;
}

export interface ActiveFault {
  status?: 429 | 500 | 503 | 403;
  retryAfterSeconds: number;
  latencyMs: number;
}

export interface CallRecord {
  service: Service;
  method: string;
  /** Path without the query string. Bodies are never recorded: they carry secrets. */
  path: string;
  /** The query parameters, with any that could carry a credential (`client_secret`, `code`, …) redacted. */
  query: Record<string, string>;
  status: number;
  /** Set when the answer came from an injected fault. */
  faulted: boolean;
  at: string;
}

interface PendingFault extends ActiveFault {
  service: Service | 'all';
  remaining: number;
  pathContains?: string;
}

export class FaultInjector {
  private faults: PendingFault[] = [];
  private log: CallRecord[] = [];

  inject(spec: FaultSpec): void {
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new RangeError('fault count must be a positive integer');
    if (spec.status === undefined && !spec.latencyMs) throw new RangeError('a fault needs a status or a latency');
    this.faults.push({
      service: spec.service ?? 'all',
      status: spec.status,
      remaining: count,
      retryAfterSeconds: spec.retryAfterSeconds ?? 1,
      latencyMs: spec.latencyMs ?? 0,
      pathContains: spec.pathContains,
    });
  }

  clear(): void {
    this.faults = [];
  }

  /** Consumes one use of the first fault matching this request. */
  take(service: Service, path: string): ActiveFault | undefined {
    const i = this.faults.findIndex((f) => (f.service === 'all' || f.service === service) && (!f.pathContains || path.includes(f.pathContains)));
    if (i < 0) return undefined;
    const f = this.faults[i];
    f.remaining -= 1;
    if (f.remaining === 0) this.faults.splice(i, 1);
    return { status: f.status, retryAfterSeconds: f.retryAfterSeconds, latencyMs: f.latencyMs };
  }

  record(call: CallRecord): void {
    this.log.push(call);
    // Long-running CLI instances keep the newest calls only.
    if (this.log.length > 10_000) this.log.splice(0, this.log.length - 10_000);
  }

  calls(service?: Service): CallRecord[] {
    return this.log.filter((c) => !service || c.service === service).map((c) => ({ ...c, query: { ...c.query } }));
  }

  clearCalls(): void {
    this.log = [];
  }
}
