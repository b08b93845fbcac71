/**
 * The certfnsh.asp form body ([MS-WCCE] 3.2.1.4.2.1.4 request attributes, as the certsrv
 * "advanced request" page posts them): `Mode=newreq`, `CertRequest` (PKCS#10 PEM),
 * `CertAttrib` (name:value lines joined by CRLF), plus the fields certrqxt.asp always sends.
 * `Mode=chkpnd` with `ReqID` asks for the state of a pending request.
 */

/** A subjectAltName for the `SAN:` attribute (honoured only with EDITF_ATTRIBUTESUBJECTALTNAME2). */
export interface SanEntry {
  type: 'dns' | 'ip' | 'email' | 'upn' | 'uri';
  value: string;
}

/** Requested validity: `ExpirationDate` (EDITF_ATTRIBUTEENDDATE) or `ValidityPeriod`/`Units`. */
export type ValidityRequest =
  | { notAfter: Date }
  | { period: 'Hours' | 'Days' | 'Weeks' | 'Months' | 'Years'; units: number };

export interface SubmitInput {
  csrPem: string;
  /** Template common name (not the display name), as listed by `templates()`. */
  template: string;
  /** Extra `name:value` request attributes. */
  attributes?: Record<string, string>;
  /** Plain strings are DNS names. */
  sans?: ReadonlyArray<string | SanEntry>;
  validity?: ValidityRequest;
}

/** Key names of the `SAN:` attribute as certreq and certsrv spell them. */
const SAN_KEYS: Record<SanEntry['type'], string> = { dns: 'dns', ip: 'ipaddress', email: 'email', upn: 'upn', uri: 'url' };

/**
 * Attribute names and values may not contain CR, LF, `&` in names or `:` in names: CertAttrib is
 * a line protocol, and a value with a line break would smuggle in another attribute (for example
 * a second `CertificateTemplate`). Invalid input is a programming error: TypeError.
 */
function checkAttribute(name: string, value: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name)) throw new TypeError(`invalid request attribute name ${JSON.stringify(name)}`);
  if (/[\r\n\0]/.test(value)) throw new TypeError(`request attribute ${name} contains a line break`);
}

function sanAttribute(sans: ReadonlyArray<string | SanEntry>): string {
  return sans.map((entry) => {
    const san: SanEntry = typeof entry === 'string' ? { type: 'dns', value: entry } : entry;
    if (/[&=\r\n]/.test(san.value)) throw new TypeError(`SAN value ${JSON.stringify(san.value)} contains & = or a line break`);
    return `${SAN_KEYS[san.type]}=${san.value}`;
  }).join('&');
}

/** The `CertAttrib` text: one `name:value` per line, template first. */
export function certAttrib(input: Pick<SubmitInput, 'template' | 'attributes' | 'sans' | 'validity'>): string {
  const lines: Array<[string, string]> = [['CertificateTemplate', input.template]];
  if (input.sans && input.sans.length > 0) lines.push(['SAN', sanAttribute(input.sans)]);
  if (input.validity && 'notAfter' in input.validity) {
    // RFC 2616 date, the format certsrv's ExpirationDate attribute parses.
    lines.push(['ExpirationDate', input.validity.notAfter.toUTCString()]);
  } else if (input.validity) {
    if (!Number.isSafeInteger(input.validity.units) || input.validity.units <= 0) throw new TypeError('validity units must be a positive integer');
    lines.push(['ValidityPeriod', input.validity.period], ['ValidityPeriodUnits', String(input.validity.units)]);
  }
  for (const [name, value] of Object.entries(input.attributes ?? {})) lines.push([name, value]);
  for (const [name, value] of lines) checkAttribute(name, value);
  return lines.map(([name, value]) => `${name}:${value}`).join('\r\n');
}

/** Form body for `Mode=newreq`. */
export function newRequestForm(input: SubmitInput): Buffer {
  if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(input.csrPem)) throw new TypeError('csrPem must be a PEM PKCS#10 certificate request');
  const form = new URLSearchParams({
    Mode: 'newreq',
    CertRequest: input.csrPem.trim(),
    CertAttrib: certAttrib(input),
    FriendlyType: 'Saved-Request Certificate',
    ThumbPrint: '',
    TargetStoreFlags: '0',
    SaveCert: 'yes',
  });
  return Buffer.from(form.toString(), 'ascii');
}

/** Form body for `Mode=chkpnd`. */
export function checkPendingForm(requestId: number): Buffer {
  return Buffer.from(new URLSearchParams({ Mode: 'chkpnd', ReqID: String(requestId) }).toString(), 'ascii');
}
