/**
 * The AdcsError → API error table (src/ca-backends/adcs/adcs-errors.ts): one case per row, each
 * seed-000 troubleshooting case, plus the denial reasons by HRESULT.
 */
import { AdcsError, type AdcsErrorCode } from '@certbridge/adcs-client';
import { describe, expect, it } from 'vitest';
import { ADCS_ERROR_TABLE, denialReason, rowFor, toAppError } from '../src/ca-backends/adcs/adcs-errors.ts';

type Case = [name: string, code: AdcsErrorCode, message: string, details: ConstructorParameters<typeof AdcsError>[2], row: string, apiCode: string, status: number];

const CASES: Case[] = [
  ['fail/tls-unable-to-verify-leaf-signature', 'ADCS_TLS', 'TLS failed', { causeCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'tls/UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CA_TLS_ERROR', 502],
  ['fail/tls-incomplete-chain', 'ADCS_TLS', 'TLS failed', { causeCode: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }, 'tls/UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CA_TLS_ERROR', 502],
  ['fail/tls-self-signed-cert-in-chain', 'ADCS_TLS', 'TLS failed', { causeCode: 'SELF_SIGNED_CERT_IN_CHAIN' }, 'tls/SELF_SIGNED_CERT_IN_CHAIN', 'CA_TLS_ERROR', 502],
  ['fail/tls-cert-has-expired', 'ADCS_TLS', 'TLS failed', { causeCode: 'CERT_HAS_EXPIRED' }, 'tls/CERT_HAS_EXPIRED', 'CA_TLS_ERROR', 502],
  ['fail/tls-host-name-mismatch', 'ADCS_TLS', 'TLS failed', { causeCode: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'tls/ERR_TLS_CERT_ALTNAME_INVALID', 'CA_TLS_ERROR', 502],
  ['fail/tls-other', 'ADCS_TLS', 'TLS failed', { causeCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'tls/other', 'CA_TLS_ERROR', 502],
  ['fail/network-refused', 'ADCS_UNAVAILABLE', 'cannot reach', { causeCode: 'ECONNREFUSED' }, 'network/refused', 'CA_UNAVAILABLE', 503],
  ['fail/network-dns', 'ADCS_UNAVAILABLE', 'cannot reach', { causeCode: 'ENOTFOUND' }, 'network/dns', 'CA_UNAVAILABLE', 503],
  ['fail/network-timeout', 'ADCS_TIMEOUT', 'no answer', { causeCode: 'ETIMEDOUT' }, 'network/timeout', 'CA_UNAVAILABLE', 503],
  ['fail/server-5xx', 'ADCS_UNAVAILABLE', 'HTTP 503', { httpStatus: 503 }, 'server/5xx', 'CA_UNAVAILABLE', 503],
  ['fail/network-reset', 'ADCS_UNAVAILABLE', 'cannot reach', { causeCode: 'ECONNRESET' }, 'network/reset', 'CA_UNAVAILABLE', 503],
  ['fail/auth-kerberos-only-server-with-ntlm', 'ADCS_AUTH_FAILED', 'the server does not offer NTLM authentication (it offers Negotiate)', { httpStatus: 401 }, 'auth/scheme-not-offered', 'CA_AUTH_FAILED', 502],
  ['fail/auth-bad-credentials-or-epa', 'ADCS_AUTH_FAILED', 'NTLM authentication was rejected: wrong credentials, no permission, or Extended Protection requires channel binding', { httpStatus: 401 }, 'auth/rejected', 'CA_AUTH_FAILED', 502],
  ['fail/network-other', 'ADCS_UNAVAILABLE', 'request failed', {}, 'network/other', 'CA_UNAVAILABLE', 503],
  ['fail/unexpected-page', 'ADCS_UNEXPECTED_PAGE', 'certfnsh.asp answered a page that is neither issued, pending, denied nor an error page', { httpStatus: 200, excerpt: 'Hello' }, 'page/unexpected', 'CA_UNAVAILABLE', 503],
];

describe('AdcsError to API error table', () => {
  it('ok/every-row-has-a-case', () => {
    expect(ADCS_ERROR_TABLE.map((r) => r.case).sort()).toEqual(CASES.map((c) => c[4]).sort());
  });

  it.each(CASES)('%s', (_name, code, message, details, row, apiCode, status) => {
    const error = new AdcsError(code, message, details);
    expect(rowFor(error).case).toBe(row);
    const app = toAppError('corp-adcs', [{ server: 'ca1', connectionId: 'c1', error }]);
    expect({ code: app.code, status: app.status, case: app.details?.['case'], hint: app.message.includes('What to do: ') }).toEqual({ code: apiCode, status, case: row, hint: true });
    if (code === 'ADCS_TLS') expect(app.details?.['tlsCode']).toBe(details?.causeCode);
  });
});

describe('denial reasons', () => {
  it.each([
    ['fail/template-not-offered-0x80094800', 'Denied by Policy Module  0x80094800, The request was for a certificate template that is not supported by the Active Directory Certificate Services policy: X.', '0x80094800', 'the template is not offered by this CA: add it to "Certificate Templates to Issue" on the CA or pick another template in the profile'],
    ['fail/template-not-allowed-0x80094012', 'Denied by Policy Module  0x80094012, The permissions on the certificate template do not allow the current user to enroll for this type of certificate.', '0x80094012', 'the connection account may not enroll in this template: grant it Enroll on the template security tab'],
    ['fail/manager-denied-0x80094014', 'Denied by CORP\\admin', '0x80094014', 'a CA manager denied the request'],
  ])('%s', (_name, disposition, hresult, hint) => {
    expect(denialReason(disposition, hresult, 'X')).toBe(`ADCS denied the request for template X: ${disposition} (${KNOWN[hresult]}) What to do: ${hint}`);
  });
});

const KNOWN: Record<string, string> = {
  '0x80094800': 'CERTSRV_E_UNSUPPORTED_CERT_TYPE: the template is not offered by this CA',
  '0x80094012': 'CERTSRV_E_TEMPLATE_DENIED: the account may not enroll in this template',
  '0x80094014': 'CERTSRV_E_ADMIN_DENIED_REQUEST: a CA manager denied the request',
};
