import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { toIssueResult, waitingResult } from './connector-outcomes.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n';

describe('toIssueResult (connector answers → issuance outcomes)', () => {
  it.each([
    ['ok/issued', { status: 'issued', requestId: 7, certificatePem: PEM },
      { result: { status: 'issued', certificateDer: new Uint8Array([1, 2, 3]), chainDer: [], requestId: '7', server: 'conn-1' } }],
    ['ok/issued-after-interruption-carries-the-warning', { status: 'issued', requestId: 8, certificatePem: PEM, warning: 'ran again' },
      { result: { status: 'issued', certificateDer: new Uint8Array([1, 2, 3]), chainDer: [], requestId: '8', server: 'conn-1', warning: 'ran again' } }],
    ['ok/issued-keygen-pkcs12-kept-apart', { status: 'issued', requestId: 9, certificatePem: PEM, pkcs12: 'MIIB' },
      { result: { status: 'issued', certificateDer: new Uint8Array([1, 2, 3]), chainDer: [], requestId: '9', server: 'conn-1' }, pkcs12: 'MIIB' }],
    ['ok/pending-pinned-to-its-server', { status: 'pending', requestId: 10, dispositionMessage: 'Taken Under Submission' },
      { result: { status: 'pending', ticket: { requestId: '10', server: 'conn-1' }, retryAfterSeconds: 60, disposition: 'Taken Under Submission' } }],
    ['ok/denied', { status: 'denied', requestId: 11, dispositionMessage: 'Denied by Policy Module', hresult: '0x80094012' },
      { result: { status: 'rejected', reason: expect.any(String), disposition: 'Denied by Policy Module', hresult: '0x80094012', requestId: '11' } }],
  ])('%s', (_name, raw, expected) => {
    expect(toIssueResult(raw, 'corp-ca', 'conn-1', 'WebServer')).toEqual(expected);
  });

  it.each([
    ['fail/not-an-outcome', { status: 'maybe' }],
    ['fail/issued-without-certificate', { status: 'issued', requestId: 1 }],
    ['fail/not-an-object', 'issued'],
  ])('%s', (_name, raw) => {
    expect(() => toIssueResult(raw, 'corp-ca', 'conn-1')).toThrow(new AppError('CA_UNAVAILABLE', 'connector answered a malformed ADCS outcome for CA corp-ca'));
  });

  it('ok/waiting-result', () => {
    expect(waitingResult('branch-1', '00000000-0000-0000-0000-00000000000a', 'conn-1', 'last attempt failed: refused')).toEqual({
      status: 'pending', ticket: { requestId: 'connector-job:00000000-0000-0000-0000-00000000000a', server: 'conn-1' }, retryAfterSeconds: 60,
      disposition: 'waiting for connector branch-1 (last attempt failed: refused)',
    });
  });
});
