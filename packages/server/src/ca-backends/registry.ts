import type { CaRow } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { createAdcsBackend, type AdcsBackendDeps } from './adcs/adcs-backend.ts';
import { createConnectorBackend, type ConnectorBackendDeps } from './connector/connector-backend.ts';
import { createInternalBackend, type InternalBackendDeps } from './internal/internal-backend.ts';
import type { CaBackend, CaBackendFactory, CaType } from './types.ts';

export type BackendDeps = InternalBackendDeps & AdcsBackendDeps & ConnectorBackendDeps;

/** Type → constructor. Every place that needs a CA goes through here; nothing switches on type. */
export const CA_BACKENDS = {
  internal: createInternalBackend,
  adcs: createAdcsBackend,
  connector: createConnectorBackend,
} satisfies Record<CaType, CaBackendFactory<BackendDeps>>;

export function isCaType(type: string): type is CaType {
  return Object.hasOwn(CA_BACKENDS, type);
}

export function backendFor(ca: CaRow, deps: BackendDeps): CaBackend {
  if (!isCaType(ca.type)) throw new AppError('NOT_SUPPORTED', `CA type ${ca.type} is not supported by this server`);
  return CA_BACKENDS[ca.type](ca, deps);
}
