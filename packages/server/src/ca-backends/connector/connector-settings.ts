import { z } from 'zod';

/** Per-CA settings of a `connector` CA (`cas.settings`). */
export const connectorCaSettingsSchema = z.object({
  /** Id of the connector that reaches this CA's ADCS servers. */
  connector: z.string().uuid(),
  /** How long an order waits for an offline or busy connector before it fails (policy). */
  jobTimeoutSeconds: z.number().int().min(1).max(86_400).default(120),
  sanAttribute: z.boolean().default(false),
}).strict();

export type ConnectorCaSettings = z.infer<typeof connectorCaSettingsSchema>;
