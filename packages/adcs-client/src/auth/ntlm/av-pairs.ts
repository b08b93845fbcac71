/**
 * AV_PAIR lists ([MS-NLMP] 2.2.2.1): the TargetInfo of a CHALLENGE_MESSAGE, echoed with additions
 * inside the NTLMv2 client blob. Each pair is AvId (u16 LE), AvLen (u16 LE), Value; the list ends
 * with MsvAvEOL.
 */

export const AvId = {
  MsvAvEOL: 0,
  MsvAvNbComputerName: 1,
  MsvAvNbDomainName: 2,
  MsvAvDnsComputerName: 3,
  MsvAvDnsDomainName: 4,
  MsvAvDnsTreeName: 5,
  MsvAvFlags: 6,
  MsvAvTimestamp: 7,
  MsvAvSingleHost: 8,
  MsvAvTargetName: 9,
  MsvAvChannelBindings: 10,
} as const;

/** MsvAvFlags bit 0x2: the AUTHENTICATE_MESSAGE carries a MIC. */
export const MSV_AV_FLAG_MIC_PRESENT = 0x2;

export interface AvPair {
  id: number;
  value: Buffer;
}

/** Parses an AV_PAIR list; throws a plain Error on truncation (callers wrap it). */
export function parseAvPairs(data: Buffer): AvPair[] {
  const pairs: AvPair[] = [];
  let offset = 0;
  while (offset + 4 <= data.length) {
    const id = data.readUInt16LE(offset);
    const len = data.readUInt16LE(offset + 2);
    if (id === AvId.MsvAvEOL) return pairs;
    if (offset + 4 + len > data.length) throw new Error(`AV_PAIR ${id} runs past the end of TargetInfo`);
    pairs.push({ id, value: Buffer.from(data.subarray(offset + 4, offset + 4 + len)) });
    offset += 4 + len;
  }
  throw new Error('TargetInfo is not terminated by MsvAvEOL');
}

/** Serialises pairs followed by MsvAvEOL. */
export function encodeAvPairs(pairs: readonly AvPair[]): Buffer {
  const parts: Buffer[] = [];
  for (const pair of pairs) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(pair.id, 0);
    head.writeUInt16LE(pair.value.length, 2);
    parts.push(head, pair.value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** Value of the first pair with `id`, if any. */
export function findAvPair(pairs: readonly AvPair[], id: number): Buffer | undefined {
  return pairs.find((p) => p.id === id)?.value;
}
