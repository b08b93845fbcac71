import { z } from 'zod';
import { parsedOncePerObject } from '../../repositories/catalog-cache.ts';

/**
 * Per-CA ADCS settings (`cas.settings`). `sanAttribute` sends the request SANs as the `SAN:`
 * attribute, which ADCS honours only with EDITF_ATTRIBUTESUBJECTALTNAME2 (off by default, and
 * a known risk when on); SANs inside the CSR always travel.
 */
export const adcsSettingsSchema = z.object({
  sanAttribute: z.boolean().default(false),
  /** Quick re-asks right after a request is pended (0 leaves it to the background poller). */
  quickRetries: z.number().int().min(0).max(5).default(5),
}).strict();

export type AdcsSettings = z.infer<typeof adcsSettingsSchema>;

/**
 * The settings of a CA row (the defaults when unreadable); frozen, as they are shared. A backend is
 * made per issuance (ca-backends/registry.ts) from the CA row of the catalogue cache, whose
 * `settings` object stays the same until the CA changes: parsed once per such object.
 */
export const parseAdcsSettings = parsedOncePerObject((value): AdcsSettings => {
  const parsed = adcsSettingsSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : adcsSettingsSchema.parse({});
});
