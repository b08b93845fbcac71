import { describe, expect, it } from 'vitest';
import { decodeNegTokenInit, decodeNegTokenResp, encodeNegTokenResp, NegState } from './spnego.ts';

// The NegTokenInit MIT GSS-API + gss-ntlmssp sends (curl --negotiate), NTLM NEGOTIATE inside.
const INIT = Buffer.from('YEgGBisGAQUFAqA+MDygDjAMBgorBgEEAYI3AgIKoioEKE5UTE1TU1AAAQAAABeCCOIAAAAAAAAAAAAAAAAAAAAABgIAAAAAAA8=', 'base64');

describe('SPNEGO codec', () => {
  it('ok/NegTokenInit from gss-ntlmssp: NTLMSSP mech and NEGOTIATE token', () => {
    const t = decodeNegTokenInit(INIT);
    expect([t?.mechTypesDer.toString('hex'), t?.mechToken?.subarray(0, 8).toString('latin1')]).toEqual(['300c060a2b06010401823702020a', 'NTLMSSP\0']);
  });

  it('ok/NegTokenResp round trip', () => {
    const enc = encodeNegTokenResp({ negState: NegState.acceptIncomplete, withMech: true, responseToken: Buffer.alloc(300, 7), mechListMIC: Buffer.alloc(16, 1) });
    const dec = decodeNegTokenResp(enc);
    expect([dec?.negState, dec?.responseToken?.length, dec?.mechListMIC?.toString('hex')]).toEqual([1, 300, '01'.repeat(16)]);
  });

  it.each([
    ['fail/empty', Buffer.alloc(0)],
    ['fail/random bytes', Buffer.from('8f3a9c01d2e4b6a7c8', 'hex')],
    ['fail/truncated NegTokenInit', INIT.subarray(0, 40)],
    ['fail/length running past the end', Buffer.from('6082ffff06062b0601050502', 'hex')],
    ['fail/trailing garbage', Buffer.concat([INIT, Buffer.from([0])])],
  ])('%s → undefined from both decoders', (_n, buf) => {
    expect([decodeNegTokenInit(buf), decodeNegTokenResp(buf)]).toEqual([undefined, undefined]);
  });
});
