import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { CaRow, Database } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import type { OfferedTemplate } from '../types.ts';
import type { AdcsRuntime } from './adcs-runtime.ts';

export interface CaTemplate {
  name: string;
  displayName: string;
  kind: string;
  /** Names of the connections (servers) that offer it. */
  servers: string[];
  refreshedAt: Date;
}

export interface RefreshReport {
  templates: CaTemplate[];
  /** Servers that could not be asked; their cached templates were kept. */
  errors: { server: string; message: string }[];
  brokenProfiles: string[];
}

/**
 * Templates of an ADCS CA: discovered per server (certrqxt.asp lists only those the
 * connection's account may enroll in), cached in `adcs_templates`, refreshed on demand and on a
 * schedule. After each refresh, profiles whose template no server offers any more are marked
 * broken (and unmarked when it comes back), so the problem shows before anyone issues.
 */
export function createAdcsTemplates(deps: {
  db: Kysely<Database>; runtime: AdcsRuntime; clock: Clock;
  /** A CA whose backend discovers templates itself (through an on-prem connector) instead of a direct client. */
  templatesVia?: (ca: CaRow) => ((server: string) => Promise<OfferedTemplate[]>) | undefined;
}) {
  const { db, runtime, clock } = deps;

  async function list(caId: string): Promise<CaTemplate[]> {
    const rows = await db.selectFrom('adcs_templates').innerJoin('ca_servers', 'ca_servers.connection_id', 'adcs_templates.connection_id')
      .innerJoin('connections', 'connections.id', 'adcs_templates.connection_id')
      .select(['adcs_templates.name', 'adcs_templates.display_name', 'adcs_templates.kind', 'adcs_templates.refreshed_at', 'connections.name as server'])
      .where('ca_servers.ca_id', '=', caId).orderBy('adcs_templates.name').orderBy('ca_servers.priority').execute();
    const byName = new Map<string, CaTemplate>();
    for (const r of rows) {
      const t = byName.get(r.name);
      if (t) {
        t.servers.push(r.server);
        if (r.refreshed_at > t.refreshedAt) t.refreshedAt = r.refreshed_at;
      } else {
        byName.set(r.name, { name: r.name, displayName: r.display_name, kind: r.kind, servers: [r.server], refreshedAt: r.refreshed_at });
      }
    }
    return [...byName.values()];
  }

  /** Marks or unmarks the CA's profiles by whether their template is still offered; returns broken slugs. */
  async function markProfiles(ca: CaRow): Promise<string[]> {
    const offered = new Set((await list(ca.id)).map((t) => t.name));
    const profiles = await db.selectFrom('profiles').select(['id', 'slug', 'template', 'broken_reason']).where('ca_id', '=', ca.id).where('template', 'is not', null).execute();
    const broken: string[] = [];
    for (const p of profiles) {
      const missing = !offered.has(p.template!);
      if (missing) broken.push(p.slug);
      if (missing && !p.broken_reason) {
        const reason = `template ${p.template} is no longer offered by any server of CA ${ca.name} (seen missing ${clock.now().toISOString()}); publish it again or pick another template`;
        await db.updateTable('profiles').set({ broken_reason: reason, updated_at: new Date() }).where('id', '=', p.id).execute();
      } else if (!missing && p.broken_reason) {
        await db.updateTable('profiles').set({ broken_reason: null, updated_at: new Date() }).where('id', '=', p.id).execute();
      }
    }
    return broken;
  }

  async function refresh(ca: CaRow): Promise<RefreshReport> {
    const errors: RefreshReport['errors'] = [];
    for (const server of await runtime.servers(ca.id)) {
      const conn = server.connection;
      try {
        const via = deps.templatesVia?.(ca);
        const value = via ? await via(conn.id) : (await runtime.withFailover(ca, (client) => client.templates(), conn.id)).value;
        const now = clock.now();
        await db.transaction().execute(async (trx) => {
          await trx.deleteFrom('adcs_templates').where('connection_id', '=', conn.id).execute();
          if (value.length) {
            await trx.insertInto('adcs_templates')
              .values(value.map((t) => ({ connection_id: conn.id, name: t.name, display_name: t.displayName, kind: t.kind, refreshed_at: now }))).execute();
          }
        });
      } catch (err) {
        errors.push({ server: conn.name, message: err instanceof Error ? err.message : String(err) });
      }
    }
    const brokenProfiles = await markProfiles(ca);
    return { templates: await list(ca.id), errors, brokenProfiles };
  }

  return {
    list,
    refresh,
    /** Scheduled refresh of every active ADCS CA. */
    async refreshAll(): Promise<number> {
      const cas = await db.selectFrom('cas').selectAll().where('type', 'in', ['adcs', 'connector']).where('status', '=', 'active').execute();
      for (const ca of cas) await refresh(ca);
      return cas.length;
    },
    /**
     * Profile validation: an ADCS CA's profile must name a template some server offers (the
     * cache is refreshed first when it is empty); other CAs take no template.
     */
    async checkProfileTemplate(ca: CaRow, template: string | null | undefined): Promise<void> {
      if (ca.type !== 'adcs' && ca.type !== 'connector') {
        if (template) throw new AppError('VALIDATION_FAILED', `CA ${ca.name} is not an ADCS CA: a template applies only to ADCS CAs`, { field: 'template' });
        return;
      }
      let offered = await list(ca.id);
      if (!template) throw new AppError('VALIDATION_FAILED', `a profile of ADCS CA ${ca.name} must name a certificate template`, { field: 'template', offered: offered.map((t) => t.name) });
      if (!offered.some((t) => t.name === template)) offered = (await refresh(ca)).templates;
      if (!offered.some((t) => t.name === template)) {
        throw new AppError('VALIDATION_FAILED', `template ${template} is not offered by any server of CA ${ca.name} to its connection accounts (offered: ${offered.map((t) => t.name).join(', ') || 'none'})`, {
          field: 'template', template, offered: offered.map((t) => t.name),
        });
      }
    },
  };
}

export type AdcsTemplates = ReturnType<typeof createAdcsTemplates>;
