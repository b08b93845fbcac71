import { AdcsClient } from '@certbridge/adcs-client';
import { clientOptions } from '../../connections/connection-options.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { ConnectionRow } from '../../db/schema.ts';

interface Entry {
  /** `updated_at` of the row the client was built from: an edited connection gets a new client. */
  version: number;
  client: AdcsClient;
  chainDer?: Uint8Array[];
}

/**
 * One long-lived AdcsClient per connection. Each client keeps its own keep-alive sockets, and
 * NTLM/Kerberos identity lives on a socket, so one handshake serves every request that socket
 * carries (the issue 4 target: one handshake per pooled connection).
 */
export function createClientPool(sealer: Sealer, onForget: (connectionId: string) => void = () => {}) {
  const entries = new Map<string, Entry>();

  function entry(conn: ConnectionRow): Entry {
    const version = conn.updated_at.getTime();
    const existing = entries.get(conn.id);
    if (existing && existing.version === version) return existing;
    if (existing) void existing.client.close();
    const fresh: Entry = { version, client: new AdcsClient(clientOptions(conn, sealer)) };
    entries.set(conn.id, fresh);
    return fresh;
  }

  return {
    client: (conn: ConnectionRow): AdcsClient => entry(conn).client,
    /** The CA chain of a server (issuing CA first), fetched once per client. */
    async chain(conn: ConnectionRow): Promise<Uint8Array[]> {
      const e = entry(conn);
      if (!e.chainDer) {
        const pems = await e.client.caChain();
        e.chainDer = pems.map((pem) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
      }
      return e.chainDer;
    },
    /** Drops the client of a connection (edited or deleted). */
    forget(connectionId: string): void {
      const e = entries.get(connectionId);
      entries.delete(connectionId);
      onForget(connectionId);
      if (e) void e.client.close();
    },
    async closeAll(): Promise<void> {
      const all = [...entries.values()];
      entries.clear();
      await Promise.all(all.map((e) => e.client.close()));
    },
    /** NTLM/Kerberos handshakes and requests of every pooled client (bench and tests). */
    async counters(): Promise<{ handshakes: number; requests: number }> {
      let handshakes = 0, requests = 0;
      for (const e of entries.values()) {
        const c = await e.client.counters();
        handshakes += c.handshakes;
        requests += c.requests;
      }
      return { handshakes, requests };
    },
  };
}

export type ClientPool = ReturnType<typeof createClientPool>;
