/**
 * `certbridge-adcs-sim --config sim.json` runs the emulator until SIGINT/SIGTERM;
 * `certbridge-adcs-sim --init <dir>` writes a sample configuration and state.
 * Relative paths in the config (stateFile, auth.keytab) are relative to the config file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initSample } from './init.ts';
import { parseConfig } from './config.ts';
import { startAdcsSim } from './index.ts';

const USAGE = `usage: certbridge-adcs-sim --config <sim.json>
       certbridge-adcs-sim --init <dir>`;

async function runConfig(path: string): Promise<void> {
  const file = resolve(path);
  const base = dirname(file);
  const raw: unknown = JSON.parse(await readFile(file, 'utf8'));
  const config = parseConfig(raw);
  const rel = (p: string | undefined) => (p && !isAbsolute(p) ? join(base, p) : p);
  const sim = await startAdcsSim({ ...config, stateFile: rel(config.stateFile), auth: { ...config.auth, keytab: rel(config.auth.keytab) } });
  const chainPath = join(base, 'ca-chain.pem');
  await writeFile(chainPath, sim.caChainPem);
  process.stdout.write(`certbridge-adcs-sim listening on ${sim.url}\nCA chain: ${chainPath}\nadmin API: ${sim.baseUrl}/sim/ (Bearer token from ${file})\n`);
  const stop = (): void => {
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(argv: string[]): Promise<number> {
  let values: { config?: string; init?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: 'string' }, init: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help || (!values.config && !values.init)) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (values.init) {
    const r = await initSample(values.init);
    process.stdout.write(
      `wrote ${r.configPath}\nURL: ${r.url}\nCA chain: ${r.chainPath}\nadmin token: ${r.adminToken}\nrun: certbridge-adcs-sim --config ${r.configPath}\n`,
    );
    return 0;
  }
  await runConfig(values.config ?? '');
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`certbridge-adcs-sim: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
