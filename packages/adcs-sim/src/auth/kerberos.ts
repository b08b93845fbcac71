/** Negotiate/Kerberos acceptor: not implemented yet. */
import type { SimConfig } from '../config.ts';
import type { NegotiateAcceptor } from './gate.ts';

export async function createKerberosAcceptor(_config: SimConfig): Promise<NegotiateAcceptor> {
  throw new Error('Negotiate/Kerberos is not implemented in this version of adcs-sim');
}
