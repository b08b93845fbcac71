/** NTLM acceptor placeholder (replaced by the NTLMv2 implementation). */
import type { SimConfig } from '../../config.ts';
import type { NtlmAcceptor } from '../gate.ts';

export function createNtlmAcceptor(_config: SimConfig): NtlmAcceptor {
  return { challenge: () => undefined, authenticate: () => undefined };
}
