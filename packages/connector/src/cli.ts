import { parseArgs } from 'node:util';
import { register } from './register.ts';
import { startRunner } from './runner.ts';
import { loadState } from './state.ts';

const USAGE = `usage:
  certbridge-connector register --server https://certbridge.example --token cbc1.… --dir /var/lib/certbridge-connector
  certbridge-connector run --dir /var/lib/certbridge-connector`;

/** The CLI; returns the exit code (run never returns until SIGINT/SIGTERM). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: { server: { type: 'string' }, token: { type: 'string' }, dir: { type: 'string' }, name: { type: 'string' } }, strict: true });
  const dir = values.dir ?? process.env['CERTBRIDGE_CONNECTOR_DIR'];
  if (command === 'register') {
    const token = values.token ?? process.env['CERTBRIDGE_CONNECTOR_TOKEN'];
    if (!values.server || !token || !dir) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    const state = await register({ server: values.server, token, dir, ...(values.name ? { name: values.name } : {}) });
    process.stdout.write(`registered as ${state.name} (${state.id}); state in ${dir}\n`);
    return 0;
  }
  if (command === 'run' && dir) {
    const runner = startRunner(await loadState(dir), { stateDir: dir });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await runner.stop();
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}
