/**
 * Request attributes as certfnsh.asp passes them to ICertRequest::Submit (the `CertAttrib` form
 * field): `Name:Value` pairs separated by line breaks ([MS-WCCE] 3.2.1.4.2.1.2 pwszAttributes,
 * where pairs are also separated by newlines). Names are case-insensitive.
 */

/** Parses CertAttrib text into a map with lower-cased names (later duplicates win, as in ADCS). */
export function parseAttributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return out;
}

export type SanEntry = { type: 'dns' | 'email' | 'upn' | 'ip' | 'url' | 'guid'; value: string };

const sanKeys: Record<string, SanEntry['type']> = {
  dns: 'dns',
  email: 'email',
  upn: 'upn',
  ipaddress: 'ip',
  url: 'url',
  guid: 'guid',
};

/**
 * Parses the `SAN:` attribute (`dns=a.example&dns=b.example&upn=u@corp`), which the CA honours
 * only with EDITF_ATTRIBUTESUBJECTALTNAME2. Unknown keys are skipped.
 */
export function parseSanAttribute(value: string): SanEntry[] {
  const out: SanEntry[] = [];
  for (const part of value.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const type = sanKeys[part.slice(0, eq).trim().toLowerCase()];
    const v = decodeURIComponentSafe(part.slice(eq + 1).trim());
    if (type && v) out.push({ type, value: v });
  }
  return out;
}

function decodeURIComponentSafe(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

const unitMs: Record<string, number> = {
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 7 * 86_400_000,
};

/**
 * The end date requested through `ExpirationDate:<RFC 2616 date>` or
 * `ValidityPeriod:<Seconds|Minutes|Hours|Days|Weeks|Months|Years>` + `ValidityPeriodUnits:<n>`;
 * `undefined` when none (or an unparsable one) was given. Honoured only with EDITF_ATTRIBUTEENDDATE.
 */
export function requestedEndDate(attrs: Map<string, string>, notBefore: Date): Date | undefined {
  const exp = attrs.get('expirationdate');
  if (exp) {
    const t = Date.parse(exp);
    return Number.isNaN(t) ? undefined : new Date(t);
  }
  const period = attrs.get('validityperiod')?.toLowerCase();
  const units = Number(attrs.get('validityperiodunits'));
  if (!period || !Number.isInteger(units) || units <= 0) return undefined;
  const end = new Date(notBefore);
  if (period === 'months') end.setUTCMonth(end.getUTCMonth() + units);
  else if (period === 'years') end.setUTCFullYear(end.getUTCFullYear() + units);
  else if (unitMs[period]) end.setTime(end.getTime() + units * unitMs[period]);
  else return undefined;
  return end;
}
