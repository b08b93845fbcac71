/**
 * Reads the principals out of an MIT keytab (the file `kadmin ktadd`, `ktutil wkt` and Windows
 * `ktpass` write), so a keytab can be checked when it is uploaded instead of failing at the first
 * kinit. Only the principal names are read; keys are skipped.
 *
 * Layout (MIT `src/lib/krb5/keytab/kt_file.c`, version 0x0502, all integers big-endian):
 *   file     ::= 0x05 0x02 entry*
 *   entry    ::= int32 size, then `size` bytes (a negative size is a deleted entry: skip -size bytes)
 *   body     ::= uint16 count, data realm, data component[count], uint32 name_type,
 *                uint32 timestamp, uint8 vno8, uint16 enctype, data key [, uint32 vno]
 *   data     ::= uint16 length, bytes
 * Version 0x0501 (host byte order, pre-1995) is refused: nothing current writes it.
 */
export class KeytabError extends Error {}

export interface KeytabEntry {
  /** `component/component@REALM`. */
  principal: string;
  enctype: number;
}

export function parseKeytab(bytes: Uint8Array): KeytabEntry[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 2 || buf[0] !== 0x05) throw new KeytabError('not a keytab (it must start with 0x05 0x02)');
  if (buf[1] !== 0x02) throw new KeytabError(`keytab version 0x05${buf[1]!.toString(16).padStart(2, '0')} is not supported (only 0x0502)`);
  const entries: KeytabEntry[] = [];
  let pos = 2;
  while (pos < buf.length) {
    if (pos + 4 > buf.length) throw new KeytabError(`keytab truncated at byte ${pos}`);
    const size = buf.readInt32BE(pos);
    pos += 4;
    const end = pos + Math.abs(size);
    if (end > buf.length) throw new KeytabError(`keytab entry at byte ${pos - 4} runs past the end`);
    if (size > 0) entries.push(readEntry(buf.subarray(pos, end), pos));
    // size 0 ends the file in MIT's writer (space reserved and never filled).
    if (size === 0) break;
    pos = end;
  }
  if (entries.length === 0) throw new KeytabError('the keytab holds no keys');
  return entries;
}

function readEntry(e: Buffer, at: number): KeytabEntry {
  let p = 0;
  const need = (n: number) => {
    if (p + n > e.length) throw new KeytabError(`keytab entry at byte ${at - 4} is malformed`);
  };
  const u16 = () => (need(2), (p += 2), e.readUInt16BE(p - 2));
  const data = () => {
    const len = u16();
    need(len);
    p += len;
    return e.subarray(p - len, p);
  };
  const count = u16();
  const realm = data().toString('utf8');
  const components = Array.from({ length: count }, () => data().toString('utf8'));
  need(4 + 4 + 1);
  p += 9;
  const enctype = u16();
  data();
  if (!realm || components.length === 0) throw new KeytabError(`keytab entry at byte ${at - 4} has no principal name`);
  return { principal: `${components.join('/')}@${realm}`, enctype };
}

/** Distinct principals of a keytab, in file order. */
export const keytabPrincipals = (bytes: Uint8Array): string[] => [...new Set(parseKeytab(bytes).map((e) => e.principal))];
