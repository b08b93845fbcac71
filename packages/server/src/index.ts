export { loadConfig, type Config } from './config/config.ts';
export { startServer, openCore, type RunningServer } from './server.ts';
export { buildApp } from './http/app.ts';
export { createCore, type Core } from './core.ts';
