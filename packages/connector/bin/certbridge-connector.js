#!/usr/bin/env node
// Loads the TypeScript sources through tsx (no separate build step), then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exit(await main(process.argv.slice(2)));
