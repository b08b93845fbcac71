import type { Core } from '../core.ts';
import { createRaRotation, DEFAULT_RA_GRACE_SECONDS } from '../enrollment/scep/ra-rotation.ts';
import { createScepRas } from '../enrollment/scep/scep-ra.ts';
import { createEnrollmentEndpoints } from '../enrollment/settings/endpoints.ts';
import { createEnrollmentRepository } from '../enrollment/settings/settings-repository.ts';
import type { CliHelpers } from './connector-commands.ts';

type Output = (line: string) => void;
interface CommandLike { summary: string; usage: string; run(args: string[], out: Output): Promise<number> }

/** The RA rotation service wired as the HTTP module wires it (enrollment-module.ts), on the CLI's core. */
function rotationOf(core: Core) {
  const { db, sealer, clock, repos } = core;
  const repo = createEnrollmentRepository(db);
  const endpoints = createEnrollmentEndpoints({ repo, catalog: repos.catalog, cas: repos.cas, certificates: repos.certificates, sealer, clock });
  const ras = createScepRas({ db, sealer, clock, cas: repos.cas, endpoints });
  return createRaRotation({ db, repo, catalog: repos.catalog, cas: repos.cas, keys: core.keys, access: core.access, sealer, clock, ras });
}

/**
 * `certbridge scep rotate-ra`: the same action as `POST …/enrollment/{profile}/scep/ra/rotate`, as
 * the admin user, on the database directly. A running server serves the new RA on its next
 * request (it reads the settings row per request); the old RA opens envelopes until the grace ends.
 */
export function scepCommands(cli: CliHelpers): Record<string, CommandLike> {
  return {
    'scep rotate-ra': {
      summary: 'Rotate the SCEP RA certificate of an application profile (the old one opens envelopes during a grace period)',
      usage: `certbridge scep rotate-ra --application <name|id> --profile <slug> [--grace-seconds N] (default ${DEFAULT_RA_GRACE_SECONDS})`,
      run: async (args, out) => cli.withCore(async (core) => {
        const v = cli.parse(args, { application: { type: 'string' }, profile: { type: 'string' }, 'grace-seconds': { type: 'string' } });
        const [application, profile] = [v['application'], v['profile']];
        if (typeof application !== 'string' || typeof profile !== 'string') throw cli.fail('--application and --profile are required');
        const graceText = v['grace-seconds'];
        const grace = typeof graceText === 'string' ? Number(graceText) : DEFAULT_RA_GRACE_SECONDS;
        if (!Number.isInteger(grace) || grace < 0 || grace > 90 * 86_400) throw cli.fail('--grace-seconds must be a whole number of seconds, at most 90 days');
        const r = await rotationOf(core).rotate(await cli.cliPrincipal(core), application, profile, grace);
        out(`rotated the SCEP RA of ${application}/${r.profile}; previous RA serial ${r.previous.serial} opens envelopes until ${r.previous.usableUntil.toISOString()}`);
        out(r.raCertificate.trimEnd());
        return 0;
      }),
    },
  };
}
