import { z } from 'zod';

/** Per-CA settings of a `connector` CA (`cas.settings`). */
export const connectorCaSettingsSchema = z.object({
  /** Id of the connector that reaches this CA's ADCS servers. */
  connector: z.string().uuid(),
  /**
   * How long an issuance request waits for an online connector's answer; after it (or at once when
   * the connector is offline) the order is left pending "waiting for connector <name>" and is
   * completed in the background. The profile's pending lifetime bounds that wait.
   */
  jobTimeoutSeconds: z.number().int().min(1).max(86_400).default(120),
  /**
   * Further connectors that reach the same ADCS servers (a pool with `connector` first): a job
   * goes to the online member with the fewest open jobs, and moves to another online member when
   * the one holding it goes offline before answering.
   */
  pool: z.array(z.string().uuid()).max(9).optional(),
  sanAttribute: z.boolean().default(false),
  /**
   * The CA name in certutil's config string `<host>\<CA name>` for revocation at ADCS; without it
   * the issuer CN of the revoked certificate is used (ADCS names the CA by its common name).
   */
  caName: z.string().min(1).max(200).regex(/^[^\\"]+$/).optional(),
}).strict();

export type ConnectorCaSettings = z.infer<typeof connectorCaSettingsSchema>;
