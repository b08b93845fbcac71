import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/** What `register` leaves in the state directory; every file is written with mode 0600. */
export interface ConnectorState {
  server: string;
  id: string;
  name: string;
  keyPem: string;
  certificatePem: string;
  /** The server's CA chain, pinned: the WebSocket trusts nothing else. */
  serverCaPem: string;
}

const meta = z.object({ server: z.string().url(), id: z.string().uuid(), name: z.string() });
const FILES = { meta: 'connector.json', key: 'connector.key', cert: 'connector.crt', serverCa: 'server-ca.pem' } as const;

async function writePrivate(file: string, content: string): Promise<void> {
  await fs.writeFile(file, content, { mode: 0o600 });
  await fs.chmod(file, 0o600);
}

export async function saveState(dir: string, state: ConnectorState): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await writePrivate(path.join(dir, FILES.key), state.keyPem);
  await writePrivate(path.join(dir, FILES.cert), state.certificatePem);
  await writePrivate(path.join(dir, FILES.serverCa), state.serverCaPem);
  await writePrivate(path.join(dir, FILES.meta), `${JSON.stringify({ server: state.server, id: state.id, name: state.name }, null, 2)}\n`);
}

export async function loadState(dir: string): Promise<ConnectorState> {
  const read = (f: string) => fs.readFile(path.join(dir, f), 'utf8');
  let raw: string;
  try {
    raw = await read(FILES.meta);
  } catch {
    throw new Error(`no connector state in ${dir}: run "certbridge-connector register" first`);
  }
  const m = meta.parse(JSON.parse(raw));
  return { ...m, keyPem: await read(FILES.key), certificatePem: await read(FILES.cert), serverCaPem: await read(FILES.serverCa) };
}
