import type { NormalisedOptions } from '../options.ts';
import type { SelectOptions } from './select.ts';
import type { AuthMechanism } from './types.ts';

export async function kerberosAuth(_options: NormalisedOptions, _select: SelectOptions): Promise<AuthMechanism> {
  throw new Error('not yet');
}
