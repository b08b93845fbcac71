/**
 * HRESULTs the emulated CA reports, and the way certsrv pages print them.
 *
 * Messages are the English FormatMessage texts Windows shows on certsrv pages and in
 * `certutil` output (winerror.h / certsrv error table). The bracketed suffix follows the
 * shape certsrv prints: `0x80094012 (-2146877422 CERTSRV_E_TEMPLATE_DENIED)` for CA errors,
 * `0x80070057 (WIN32: 87 ERROR_INVALID_PARAMETER)` for Win32 errors and
 * `0x8009310b (ASN: 267 CRYPT_E_ASN1_BADTAG)` for ASN.1 decoder errors.
 */
export interface HResult {
  readonly code: number;
  readonly symbol: string;
  readonly message: string;
}

const table = {
  S_OK: { code: 0x0, symbol: 'S_OK', message: 'The operation completed successfully.' },
  E_INVALIDARG: { code: 0x80070057, symbol: 'ERROR_INVALID_PARAMETER', message: 'The parameter is incorrect.' },
  ERROR_INVALID_DATA: { code: 0x8007000d, symbol: 'ERROR_INVALID_DATA', message: 'The data is invalid.' },
  CRYPT_E_NOT_FOUND: { code: 0x80092004, symbol: 'CRYPT_E_NOT_FOUND', message: 'Cannot find object or property.' },
  CRYPT_E_ASN1_BADTAG: { code: 0x8009310b, symbol: 'CRYPT_E_ASN1_BADTAG', message: 'ASN1 bad tag value met.' },
  CRYPT_E_ASN1_EOD: { code: 0x80093102, symbol: 'CRYPT_E_ASN1_EOD', message: 'ASN1 unexpected end of data.' },
  NTE_BAD_SIGNATURE: { code: 0x80090006, symbol: 'NTE_BAD_SIGNATURE', message: 'Invalid Signature.' },
  CERTSRV_E_BAD_REQUESTSUBJECT: {
    code: 0x80094001,
    symbol: 'CERTSRV_E_BAD_REQUESTSUBJECT',
    message: 'The request subject name is invalid or too long.',
  },
  CERTSRV_E_TEMPLATE_DENIED: {
    code: 0x80094012,
    symbol: 'CERTSRV_E_TEMPLATE_DENIED',
    message:
      'The permissions on the certificate template do not allow the current user to enroll for this type of certificate.',
  },
  CERTSRV_E_ADMIN_DENIED_REQUEST: {
    code: 0x80094014,
    symbol: 'CERTSRV_E_ADMIN_DENIED_REQUEST',
    message: 'The request was denied by a certificate manager or CA administrator.',
  },
  CERTSRV_E_UNSUPPORTED_CERT_TYPE: {
    code: 0x80094800,
    symbol: 'CERTSRV_E_UNSUPPORTED_CERT_TYPE',
    message: 'The requested certificate template is not supported by this CA.',
  },
  CERTSRV_E_NO_CERT_TYPE: {
    code: 0x80094801,
    symbol: 'CERTSRV_E_NO_CERT_TYPE',
    message: 'The request contains no certificate template information.',
  },
  CERTSRV_E_KEY_LENGTH: {
    code: 0x80094811,
    symbol: 'CERTSRV_E_KEY_LENGTH',
    message: 'The public key does not meet the minimum size required by the specified certificate template.',
  },
} as const satisfies Record<string, HResult>;

export type HResultName = keyof typeof table;

/** Looks up an HRESULT by its symbolic name. */
export function hresult(name: HResultName): HResult {
  return table[name];
}

/** `0x80094012` — lower-case hex without padding, as certsrv prints it. */
export function hex(code: number): string {
  return `0x${(code >>> 0).toString(16)}`;
}

/**
 * Formats an HRESULT the way certsrv's result pages do:
 * `<message> 0x80094012 (-2146877422 CERTSRV_E_TEMPLATE_DENIED)`.
 */
export function describe(h: HResult): string {
  const code = h.code >>> 0;
  if (code === 0) return `${h.message} 0x0 (WIN32: 0)`;
  // Facility 7 (FACILITY_WIN32) shows the Win32 error number; the ASN.1 decoder range
  // 0x80093000-0x800931ff shows its offset; everything else the signed decimal value.
  if (((code & 0xffff0000) >>> 0) === 0x80070000) return `${h.message} ${hex(code)} (WIN32: ${code & 0xffff} ${h.symbol})`;
  if (code >= 0x80093000 && code <= 0x800931ff) return `${h.message} ${hex(code)} (ASN: ${code - 0x80093000} ${h.symbol})`;
  return `${h.message} ${hex(code)} (${code - 0x100000000} ${h.symbol})`;
}

/** Finds the table entry for a numeric code (state files store numbers). */
export function byCode(code: number): HResult {
  const found = Object.values(table).find((h) => h.code >>> 0 === code >>> 0);
  return found ?? { code, symbol: 'UNKNOWN', message: 'Unknown error' };
}
