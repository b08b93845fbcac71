/**
 * Replays every capture in testdata/adcs-captures (copied from /work/shared/adcs-captures) and
 * synthetic certsrv pages built from the markers Windows prints.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AdcsError } from '../errors.ts';
import { parseSubmitPage, parseRetrievePage } from './outcome.ts';
import { parseDlFields } from './dl-fields.ts';
import { parseCaArchive } from './certcarc.ts';
import { parseTemplates } from './templates.ts';
import { caNameFromHeader } from './html.ts';

const CAPTURES = path.resolve(import.meta.dirname, '../../testdata/adcs-captures');
const read = (name: string): string => readFileSync(path.join(CAPTURES, name), 'utf8');
const errorPage = read('nokia-adcs-issuer_certnew.cer-errorpage.tmpl');
const carc = read('nokia-adcs-issuer_certcarc.asp.tmpl');
const unauthorized = read('nokia-adcs-issuer_iis-401-unauthorized.tmpl');

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, key: string) => values[key] ?? '');
}
const crlf = (text: string): string => text.replace(/\r?\n/g, '\r\n');

const TEMPLATE_DENIED = 'Denied by Policy Module  0x80094012, The permissions on the certificate template do not allow the current user to enroll for this type of certificate.';
const UNSUPPORTED = 'Denied by Policy Module  0x80094800, The request was for a certificate template that is not supported by the Active Directory Certificate Services policy: NoSuch.';

function caught(fn: () => unknown): AdcsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AdcsError) return error;
    throw error;
  }
  throw new Error('expected an AdcsError');
}

describe('certnew.cer error page capture', () => {
  it.each([
    ['ok/pending-taken-under-submission', { DispositionMessage: 'Taken Under Submission', LastStatus: 'The operation completed successfully. 0x0 (WIN32: 0)' },
      { status: 'pending', requestId: 7, dispositionMessage: 'Taken Under Submission' }],
    ['ok/denied-template-permission', { DispositionMessage: TEMPLATE_DENIED, LastStatus: 'The permissions on the certificate template do not allow the current user to enroll for this type of certificate. 0x80094012 (-2146877422 CERTSRV_E_TEMPLATE_DENIED)' },
      { status: 'denied', requestId: 7, dispositionMessage: TEMPLATE_DENIED, hresult: '0x80094012' }],
    ['ok/denied-unsupported-template', { DispositionMessage: UNSUPPORTED, LastStatus: 'The operation completed successfully. 0x0 (WIN32: 0)' },
      { status: 'denied', requestId: 7, dispositionMessage: UNSUPPORTED, hresult: '0x80094800' }],
    ['ok/denied-by-ca-manager', { DispositionMessage: 'Denied by CORP\\admin', LastStatus: 'The request was denied by a certificate manager or CA administrator. 0x80094014 (-2146877420 CERTSRV_E_ADMIN_DENIED_REQUEST)' },
      { status: 'denied', requestId: 7, dispositionMessage: 'Denied by CORP\\admin', hresult: '0x80094014' }],
  ])('%s', (_name, values, expected) => {
    expect(parseRetrievePage(fill(errorPage, values), 7)).toEqual(expected);
  });

  it('ok/crlf-line-endings-as-iis-sends', () => {
    const page = crlf(fill(errorPage, { DispositionMessage: 'Taken Under Submission', LastStatus: 'The operation completed successfully. 0x0 (WIN32: 0)' }));
    expect(parseRetrievePage(page, 9)).toEqual({ status: 'pending', requestId: 9, dispositionMessage: 'Taken Under Submission' });
  });

  it('ok/dl-fields-exact', () => {
    const page = fill(errorPage, { DispositionMessage: 'Taken Under Submission', LastStatus: 'The operation completed successfully. 0x0 (WIN32: 0)' });
    expect(parseDlFields(page)).toEqual({
      requestMode: '- (certnew.cer/certnew.p7b/certcrl.crl certificate/crl fetch)',
      disposition: 5,
      dispositionText: '5 - (unknown)',
      dispositionMessage: 'Taken Under Submission',
      result: 'The operation completed successfully. 0x0 (WIN32: 0)',
      lastStatus: 'The operation completed successfully. 0x0 (WIN32: 0)',
      suggestedCause: 'No suggestions.',
    });
  });

  it.each([
    ['fail/dl-random-bytes', randomBytes(4096).toString('latin1')],
    ['fail/dl-truncated-before-first-field', errorPage.slice(0, errorPage.indexOf('<DT'))],
  ])('%s', (_name, page) => {
    expect(parseDlFields(page)).toEqual({});
  });

  it('ok/ca-name-from-header', () => {
    expect(caNameFromHeader(errorPage)).toBe('NokiaInternalSubCA07');
  });
});

describe('certcarc.asp capture', () => {
  it.each([
    ['ok/no-renewals', '0', { renewals: 0, caName: 'NokiaInternalSubCA07' }],
    ['ok/three-renewals', '3', { renewals: 3, caName: 'NokiaInternalSubCA07' }],
  ])('%s', (_name, renewals, expected) => {
    expect(parseCaArchive(fill(carc, { Renewals: renewals }))).toEqual(expected);
  });

  it.each([
    ['fail/unfilled-placeholder-is-not-a-certcarc-page', carc],
    ['fail/truncated-before-nrenewals', fill(carc, { Renewals: '2' }).slice(0, fill(carc, { Renewals: '2' }).indexOf('var nRenewals'))],
    ['fail/random-bytes', randomBytes(4096).toString('latin1')],
    ['fail/huge-renewal-count', carc.replace('{{ .Renewals }}', '99999999999999999999')],
  ])('%s', (_name, page) => {
    expect(parseCaArchive(page)).toBeUndefined();
  });
});

describe('IIS 401 capture', () => {
  it('fail/401-page-is-unexpected-with-excerpt', () => {
    const err = caught(() => parseSubmitPage(unauthorized, 401));
    expect({ code: err.code, status: err.httpStatus, starts: err.excerpt?.startsWith('401 - Unauthorized') }).toEqual({ code: 'ADCS_UNEXPECTED_PAGE', status: 401, starts: true });
  });
});

describe('every capture file is parsed without a crash', () => {
  const files = readdirSync(CAPTURES, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(path.join(CAPTURES, f)).isFile() && f !== 'README.md' && !f.endsWith('errorpage.tmpl'));
  it.each(files)('fail/not-a-submit-outcome: %s', (file) => {
    expect(caught(() => parseSubmitPage(read(file))).code).toBe('ADCS_UNEXPECTED_PAGE');
  });
});

// certfnsh.asp result pages as certsrv renders them (certrsis/certrspn/certrsdn/certrser shapes);
// no public capture of these exists, so they are built from the markers.
const shell = (body: string): string => crlf(`<HTML>\n<Head><Title>Microsoft Active Directory Certificate Services</Title></Head>\n<Body>\n${body}\n</Body></HTML>\n`);
const issuedPage = shell(`<P ID=locPageTitle> <B> Certificate Issued </B>\n<A Href="certnew.cer?ReqID=42&amp;Enc=bin">Download certificate</A>\n<Script>\n\tlocation="certnew.cer?ReqID=42&"+getEncoding();\n</Script>`);
const pendingPage = shell('<P ID=locPageTitle> <B> Certificate Pending </B>\n<P ID=locInfoNewReq> Your certificate request has been received. However, you must wait for an administrator to issue the certificate you requested. </P>\n<P> Your Request Id is 43.</P>');
const deniedPage = shell(`<P ID=locPageTitle> <B> Certificate Request Denied </B>\n<P ID=locDenied> Your certificate request was denied. </P>\n<P> Your Request Id is 44. The disposition message is "${TEMPLATE_DENIED}".</P>`);
const asnErrorPage = shell('<P ID=locPageTitle> <B> Error </B>\n<DL><DD><DL>\n<DT ID=locModeLabel><B>Request Mode:</B></DT><DD>\n\t\tnewreq - New Request\n</DD>\n<DT ID=locDispLabel><B>Disposition:</B></DT><DD>\n\t\t(never submitted)\n</DD>\n<DT ID=locResultLabel><B>Result:</B></DT><DD>\n\t\tASN1 bad tag value met. 0x8009310b (ASN: 267)\n</DD></DL></DD></DL>');

describe('certfnsh.asp result pages', () => {
  it.each([
    ['ok/issued-reqid-link', issuedPage, { status: 'issued', requestId: 42 }],
    ['ok/pending-request-id', pendingPage, { status: 'pending', requestId: 43, dispositionMessage: 'Taken Under Submission' }],
    ['ok/denied-disposition-message', deniedPage, { status: 'denied', requestId: 44, dispositionMessage: TEMPLATE_DENIED, hresult: '0x80094012' }],
    ['ok/error-page-asn1-hresult', asnErrorPage, { status: 'denied', dispositionMessage: 'ASN1 bad tag value met. 0x8009310b (ASN: 267)', hresult: '0x8009310b' }],
  ])('%s', (_name, page, expected) => {
    expect(parseSubmitPage(page)).toEqual(expected);
  });

  it.each([
    ['fail/truncated-issued-page', issuedPage.slice(0, issuedPage.indexOf('certnew'))],
    ['fail/truncated-error-capture', errorPage.slice(0, errorPage.indexOf('<DL>'))],
    ['fail/random-bytes', randomBytes(2048).toString('latin1')],
    ['fail/empty-body', ''],
  ])('%s', (_name, page) => {
    expect(caught(() => parseSubmitPage(page, 200)).code).toBe('ADCS_UNEXPECTED_PAGE');
  });

  it('fail/unknown-page-error-carries-status-and-excerpt', () => {
    const err = caught(() => parseSubmitPage(shell('<P>Something else entirely</P>'), 200));
    expect({ status: err.httpStatus, excerpt: err.excerpt }).toEqual({ status: 200, excerpt: 'Microsoft Active Directory Certificate Services Something else entirely' });
  });
});

const certrqxt = crlf(`<Select Name=lbCertTemplate ID=lbCertTemplateID OnChange="handleTemplateChange();">
\t<Option Value="E;WebServer;1;;2;1;2048;0;0;4;1.3.6.1.5.5.7.3.1">Web Server</Option>
\t<Option Value="O;User;1;;3;1;2048;0;0;2;1.3.6.1.4.1.311.10.3.4">User
\t<Option Value="E;SubCA;0;;1;1;2048;0;0;4;">Subordinate Certification Authority</Option>
\t<Option Value="E;Ampersand&amp;Co;0;;1">Ampersand &amp; Co</Option>
</Select>`);

describe('certrqxt.asp templates', () => {
  it('ok/e-and-o-options-with-display-names', () => {
    expect(parseTemplates(certrqxt)).toEqual([
      { name: 'WebServer', displayName: 'Web Server', kind: 'E' },
      { name: 'User', displayName: 'User', kind: 'O' },
      { name: 'SubCA', displayName: 'Subordinate Certification Authority', kind: 'E' },
      { name: 'Ampersand&Co', displayName: 'Ampersand & Co', kind: 'E' },
    ]);
  });
  it.each([
    ['ok/empty-select-no-permission', '<select id="lbCertTemplateID"></select>', []],
    ['fail/no-select-is-undefined', '<html><body>hello</body></html>', undefined],
    ['fail/garbage-options-skipped', '<select id=lbCertTemplateID><option value="X;nope">x</option><option>y</option></select>', []],
    ['fail/random-bytes', randomBytes(1024).toString('latin1'), undefined],
  ])('%s', (_name, html, expected) => {
    expect(parseTemplates(html)).toEqual(expected);
  });
});
