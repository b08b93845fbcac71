import dgram from 'node:dgram';

/**
 * A tiny authoritative DNS server for ACME tests (RFC 1035 wire format over UDP): every A query
 * is answered with 127.0.0.1, TXT queries with the records the test sets, AAAA with no data.
 * Certbridge's validator reaches it through CERTBRIDGE_ACME_DNS_RESOLVER.
 */
export interface TestDnsServer {
  address: string;
  txt: Map<string, string[]>;
  queries: { name: string; type: number }[];
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_TXT = 16;

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  while (msg[at] !== 0) {
    const len = msg[at]!;
    labels.push(msg.subarray(at + 1, at + 1 + len).toString('ascii'));
    at += len + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: at + 1 };
}

function answer(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // pointer to the question name
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(0, 6); // TTL 0: tests change records between lookups
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

function txtRdata(value: string): Buffer {
  const chunks: Buffer[] = [];
  for (let i = 0; i < value.length || i === 0; i += 255) {
    const part = Buffer.from(value.slice(i, i + 255), 'ascii');
    chunks.push(Buffer.from([part.length]), part);
  }
  return Buffer.concat(chunks);
}

export async function startTestDnsServer(): Promise<TestDnsServer> {
  const socket = dgram.createSocket('udp4');
  const txt = new Map<string, string[]>();
  const queries: { name: string; type: number }[] = [];
  socket.on('message', (msg, peer) => {
    if (msg.length < 17) return;
    const { name, end } = readName(msg, 12);
    const type = msg.readUInt16BE(end);
    queries.push({ name, type });
    const question = msg.subarray(12, end + 4);
    const answers = type === TYPE_A ? [answer(TYPE_A, Buffer.from([127, 0, 0, 1]))]
      : type === TYPE_TXT ? (txt.get(name) ?? []).map((v) => answer(TYPE_TXT, txtRdata(v))) : [];
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100), 2); // QR, AA, copy RD
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, question, ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${port}`,
    txt,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
