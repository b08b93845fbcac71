import { describe, expect, it } from 'vitest';
import { findAllHresults, findHresult, isFailure } from './hresult.ts';

describe('findHresult', () => {
  it.each([
    ['ok/policy-module-denial', 'Denied by Policy Module  0x80094012, The permissions on the certificate template do not allow', { hresult: '0x80094012' }],
    ['ok/win32-form', 'Access is denied. 0x80070005 (WIN32: 5 ERROR_ACCESS_DENIED)', { hresult: '0x80070005', win32: 5, win32Name: 'ERROR_ACCESS_DENIED' }],
    ['ok/success-win32-0', 'The operation completed successfully. 0x0 (WIN32: 0)', { hresult: '0x0', win32: 0 }],
    ['ok/asn-form', 'ASN1 bad tag value met. 0x8009310b (ASN: 267)', { hresult: '0x8009310b' }],
    ['ok/decimal-and-symbol-form', 'Cannot find object or property. 0x80092004 (-2146885628 CRYPT_E_NOT_FOUND)', { hresult: '0x80092004', name: 'CRYPT_E_NOT_FOUND' }],
    ['ok/failure-preferred-over-success', 'ok 0x0 then 0x80094800', { hresult: '0x80094800' }],
    ['ok/upper-case-hex-normalised', 'error 0X8009310B', { hresult: '0x8009310b' }],
  ])('%s', (_name, text, expected) => {
    expect(findHresult(text)).toEqual(expected);
  });

  it.each([
    ['fail/no-hresult', 'Taken Under Submission'],
    ['fail/hex-inside-word', 'abc0x80094012def'],
    ['fail/empty', ''],
  ])('%s', (_name, text) => {
    expect(findHresult(text)).toBeUndefined();
  });

  it('ok/all-in-order', () => {
    expect(findAllHresults('0x1 and 0x80094012').map((h) => h.hresult)).toEqual(['0x00000001', '0x80094012']);
  });

  it.each([
    ['ok/failure-bit', '0x80094012', true],
    ['ok/success', '0x0', false],
  ])('%s', (_name, hresult, expected) => {
    expect(isFailure(hresult)).toBe(expected);
  });
});
