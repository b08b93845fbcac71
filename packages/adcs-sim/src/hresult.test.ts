import { describe, expect, it } from 'vitest';
import { byCode, describe as describeHr, hex, hresult, type HResultName } from './hresult.ts';

// Every row of the HRESULT table, formatted the way certsrv pages print it.
const rows: Array<[HResultName, string]> = [
  ['S_OK', 'The operation completed successfully. 0x0 (WIN32: 0)'],
  ['E_INVALIDARG', 'The parameter is incorrect. 0x80070057 (WIN32: 87 ERROR_INVALID_PARAMETER)'],
  ['ERROR_INVALID_DATA', 'The data is invalid. 0x8007000d (WIN32: 13 ERROR_INVALID_DATA)'],
  ['CRYPT_E_NOT_FOUND', 'Cannot find object or property. 0x80092004 (-2146885628 CRYPT_E_NOT_FOUND)'],
  ['CRYPT_E_ASN1_BADTAG', 'ASN1 bad tag value met. 0x8009310b (ASN: 267 CRYPT_E_ASN1_BADTAG)'],
  ['CRYPT_E_ASN1_EOD', 'ASN1 unexpected end of data. 0x80093102 (ASN: 258 CRYPT_E_ASN1_EOD)'],
  ['NTE_BAD_SIGNATURE', 'Invalid Signature. 0x80090006 (-2146893818 NTE_BAD_SIGNATURE)'],
  ['CERTSRV_E_BAD_REQUESTSUBJECT', 'The request subject name is invalid or too long. 0x80094001 (-2146877439 CERTSRV_E_BAD_REQUESTSUBJECT)'],
  ['CERTSRV_E_TEMPLATE_DENIED', 'The permissions on the certificate template do not allow the current user to enroll for this type of certificate. 0x80094012 (-2146877422 CERTSRV_E_TEMPLATE_DENIED)'],
  ['CERTSRV_E_ADMIN_DENIED_REQUEST', 'The request was denied by a certificate manager or CA administrator. 0x80094014 (-2146877420 CERTSRV_E_ADMIN_DENIED_REQUEST)'],
  ['CERTSRV_E_UNSUPPORTED_CERT_TYPE', 'The requested certificate template is not supported by this CA. 0x80094800 (-2146875392 CERTSRV_E_UNSUPPORTED_CERT_TYPE)'],
  ['CERTSRV_E_NO_CERT_TYPE', 'The request contains no certificate template information. 0x80094801 (-2146875391 CERTSRV_E_NO_CERT_TYPE)'],
  ['CERTSRV_E_KEY_LENGTH', 'The public key does not meet the minimum size required by the specified certificate template. 0x80094811 (-2146875375 CERTSRV_E_KEY_LENGTH)'],
];

describe('HRESULT formatting', () => {
  it.each(rows)('ok/%s', (name, text) => {
    expect(describeHr(hresult(name))).toBe(text);
  });

  it('ok/byCode finds a table entry from a stored number', () => {
    expect(byCode(0x80094012).symbol).toBe('CERTSRV_E_TEMPLATE_DENIED');
  });

  it('fail/byCode of an unknown code says so instead of throwing', () => {
    expect([byCode(0x80001234).symbol, hex(0x80001234)]).toEqual(['UNKNOWN', '0x80001234']);
  });
});
