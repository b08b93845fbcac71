export { register, parseToken } from './register.ts';
export { startRunner, type Runner, type RunnerOptions } from './runner.ts';
export { loadState, saveState, type ConnectorState } from './state.ts';
export { backoffDelay } from './backoff.ts';
export { CONNECTOR_VERSION } from './version.ts';
