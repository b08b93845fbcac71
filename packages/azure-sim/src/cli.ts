/**
 * `certbridge-azure-sim --config azure-sim.json` runs the emulator until SIGINT/SIGTERM;
 * `certbridge-azure-sim --init <dir>` writes a sample configuration.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { applyConfig, parseConfig } from './config.ts';
import { initSample } from './init.ts';
import { startAzureSim } from './index.ts';

const USAGE = `usage: certbridge-azure-sim --config <azure-sim.json>
       certbridge-azure-sim --init <dir>`;

async function runConfig(path: string): Promise<void> {
  const file = resolve(path);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const config = parseConfig(raw);
  const sim = await startAzureSim({ host: config.host, port: config.port, graphPort: config.graphPort, adminToken: config.adminToken });
  let vaults: Record<string, string>;
  try {
    vaults = await applyConfig(sim, config, dirname(file));
  } catch (e) {
    await sim.close();
    throw e;
  }
  const caPath = join(dirname(file), 'ca.pem');
  await writeFile(caPath, sim.caPem);
  const lines = [
    `certbridge-azure-sim listening`,
    `authority (Entra): ${sim.authorityHost}`,
    `Graph: ${sim.graphUrl}`,
    ...Object.entries(vaults).map(([name, url]) => `Key Vault ${name}: ${url}`),
    ...(config.adminToken ? [`admin API: ${sim.authorityHost}/sim/ (Bearer adminToken from ${file})`] : []),
    `CA: ${caPath}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = (): void => {
    sim.close().then(
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
    const { configPath, config } = await initSample(values.init);
    const t = config.tenants[0];
    const apps = t.apps.map((a) => `  ${a.displayName}: appId ${a.appId}`).join('\n');
    // Secrets stay in the file (mode 0600); the console names where they are, not what they are.
    process.stdout.write(`wrote ${configPath}\ntenant: ${t.id} (${t.domain})\n${apps}\nclient secrets: tenants[0].apps[].secrets in ${configPath}\nrun: certbridge-azure-sim --config ${configPath}\n`);
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
    process.stderr.write(`certbridge-azure-sim: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
