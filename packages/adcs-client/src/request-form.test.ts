import { describe, expect, it } from 'vitest';
import { certAttrib, checkPendingForm, newRequestForm } from './request-form.ts';

const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n';

describe('CertAttrib', () => {
  it.each([
    ['ok/template-only', { template: 'WebServer' }, 'CertificateTemplate:WebServer'],
    ['ok/dns-sans-as-strings', { template: 'WebServer', sans: ['a.example', 'b.example'] }, 'CertificateTemplate:WebServer\r\nSAN:dns=a.example&dns=b.example'],
    ['ok/typed-sans', { template: 'User', sans: [{ type: 'upn', value: 'a@corp.example' }, { type: 'ip', value: '10.0.0.1' }, { type: 'email', value: 'a@b.c' }, { type: 'uri', value: 'https://x/y' }] },
      'CertificateTemplate:User\r\nSAN:upn=a@corp.example&ipaddress=10.0.0.1&email=a@b.c&url=https://x/y'],
    ['ok/expiration-date-rfc2616', { template: 'WebServer', validity: { notAfter: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)) } }, 'CertificateTemplate:WebServer\r\nExpirationDate:Wed, 02 Jan 2030 03:04:05 GMT'],
    ['ok/validity-period', { template: 'WebServer', validity: { period: 'Days', units: 30 } }, 'CertificateTemplate:WebServer\r\nValidityPeriod:Days\r\nValidityPeriodUnits:30'],
    ['ok/extra-attributes', { template: 'WebServer', attributes: { UserAgent: 'certbridge' } }, 'CertificateTemplate:WebServer\r\nUserAgent:certbridge'],
  ] as const)('%s', (_name, input, expected) => {
    expect(certAttrib(input)).toBe(expected);
  });

  it.each([
    ['fail/line-break-in-template-smuggles-attribute', { template: 'WebServer\r\nCertificateTemplate:SubCA' }, 'request attribute CertificateTemplate contains a line break'],
    ['fail/line-break-in-extra-attribute', { template: 'W', attributes: { A: 'x\ny' } }, 'request attribute A contains a line break'],
    ['fail/bad-attribute-name', { template: 'W', attributes: { 'A:B': 'x' } }, 'invalid request attribute name "A:B"'],
    ['fail/ampersand-in-san', { template: 'W', sans: ['a&upn=admin@corp'] }, 'SAN value "a&upn=admin@corp" contains & = or a line break'],
    ['fail/zero-validity-units', { template: 'W', validity: { period: 'Days', units: 0 } }, 'validity units must be a positive integer'],
  ] as const)('%s', (_name, input, message) => {
    expect(() => certAttrib(input)).toThrow(message);
  });
});

describe('form bodies', () => {
  it('ok/newreq-fields', () => {
    const form = new URLSearchParams(newRequestForm({ csrPem: CSR, template: 'WebServer' }).toString());
    expect(Object.fromEntries(form)).toEqual({
      Mode: 'newreq', CertRequest: CSR.trim(), CertAttrib: 'CertificateTemplate:WebServer',
      FriendlyType: 'Saved-Request Certificate', ThumbPrint: '', TargetStoreFlags: '0', SaveCert: 'yes',
    });
  });
  it('ok/chkpnd-fields', () => {
    expect(checkPendingForm(12).toString()).toBe('Mode=chkpnd&ReqID=12');
  });
  it('fail/not-a-pem-csr', () => {
    expect(() => newRequestForm({ csrPem: 'MIIB', template: 'W' })).toThrow('csrPem must be a PEM PKCS#10 certificate request');
  });
});
