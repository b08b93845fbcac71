import { COMMANDS, describeError } from './commands.ts';

/** `certbridge <command> [subcommand] [options]`: one line on error, non-zero exit. */
function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return ['Usage: certbridge <command> [options]', '', 'Commands:', ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`), '', 'Run `certbridge <command> --help` for its options. Configuration comes from CERTBRIDGE_* environment variables (see README).'].join('\n');
}

export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  const name = [argv.slice(0, 2).join(' '), argv[0] ?? ''].find((candidate) => candidate in COMMANDS);
  if (!name) {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') return out(help()), argv.length === 0 ? 2 : 0;
    err(`certbridge: unknown command "${argv.slice(0, 2).join(' ')}"; run certbridge --help`);
    return 2;
  }
  const command = COMMANDS[name]!;
  const rest = argv.slice(name.split(' ').length);
  if (rest.includes('--help')) return out(`${command.summary}\n\nUsage: ${command.usage}`), 0;
  try {
    return await command.run(rest, out);
  } catch (e) {
    err(`certbridge: ${describeError(e)}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
