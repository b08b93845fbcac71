/**
 * HRESULT extraction from certsrv text.
 *
 * Windows prints an HRESULT as `0x80094012` after the message (certsrv `Result:` / `LastStatus:`
 * fields, the policy module's disposition message "Denied by Policy Module  0x80094012, …"), and a
 * Win32-derived one with its Win32 code: `0x80070005 (WIN32: 5 ERROR_ACCESS_DENIED)`. ASN.1 errors
 * carry `(ASN: 267)`. [MS-WCCE] 2.2.2.9 lists the CERTSRV_E_* values; `0x0` means success.
 */

export interface HresultInfo {
  /** Normalised lower-case `0x` + 8 hex digits, or `0x0` for success. */
  hresult: string;
  /** Win32 error code from `(WIN32: n)` when printed. */
  win32?: number;
  /** Symbolic Win32 name printed after the number, e.g. `ERROR_ACCESS_DENIED`. */
  win32Name?: string;
  /** Symbolic name from the `(-2146885628 CRYPT_E_NOT_FOUND)` form. */
  name?: string;
}

const HRESULT_RE = /\b0x([0-9a-f]{1,8})\b(?:\s*\((?:(WIN32|ASN):\s*(-?\d+)(?:\s+([A-Z_][A-Z0-9_]*))?|-?\d+\s+([A-Z_][A-Z0-9_]*))\))?/i;

/** First HRESULT in `text`, preferring a failure code (high bit set) over `0x0`. */
export function findHresult(text: string): HresultInfo | undefined {
  const all = findAllHresults(text);
  return all.find((h) => h.hresult !== '0x0') ?? all[0];
}

/** Every HRESULT printed in `text`, in order. */
export function findAllHresults(text: string): HresultInfo[] {
  const out: HresultInfo[] = [];
  const re = new RegExp(HRESULT_RE.source, 'gi');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const value = parseInt(m[1] ?? '0', 16);
    const info: HresultInfo = { hresult: value === 0 ? '0x0' : `0x${value.toString(16).padStart(8, '0')}` };
    if ((m[2] ?? '').toUpperCase() === 'WIN32' && m[3] !== undefined) {
      info.win32 = Number(m[3]);
      if (m[4]) info.win32Name = m[4];
    }
    if (m[5]) info.name = m[5];
    out.push(info);
  }
  return out;
}

/** True for a failure HRESULT (severity bit set). */
export function isFailure(hresult: string): boolean {
  return (parseInt(hresult.slice(2), 16) & 0x80000000) !== 0;
}

/**
 * CERTSRV_E_* codes the client treats specially ([MS-WCCE] 2.2.2.9 / winerror.h).
 * Names are protocol facts, used to build clear error messages.
 */
export const KNOWN_HRESULTS: Record<string, string> = {
  '0x80094012': 'CERTSRV_E_TEMPLATE_DENIED: the account may not enroll in this template',
  '0x80094800': 'CERTSRV_E_UNSUPPORTED_CERT_TYPE: the template is not offered by this CA',
  '0x80094014': 'CERTSRV_E_ADMIN_DENIED_REQUEST: a CA manager denied the request',
  '0x80094004': 'CERTSRV_E_PROPERTY_EMPTY: no such request or property',
  '0x80092004': 'CRYPT_E_NOT_FOUND: the CA has no request with this id',
  '0x8009310b': 'CRYPT_E_ASN1_BADTAG: the request could not be parsed',
  '0x80094001': 'CERTSRV_E_BAD_REQUESTSUBJECT: the request subject is invalid',
  '0x80094801': 'CERTSRV_E_NO_CERT_TYPE: the request names no certificate template',
  '0x80070005': 'E_ACCESSDENIED: access denied',
};
