/**
 * Replays the captured certsrv pages (testdata/, from a real Windows Server CA) against the
 * emulator's renderers: the layout clients scrape must be identical.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderErrorPage } from '../src/web/pages/error-page.ts';
import { renderCertCarc } from '../src/web/pages/certcarc.ts';
import { UNAUTHORIZED_BODY } from '../src/web/pages/unauthorized.ts';
import { crlf } from '../src/web/iis.ts';

const capture = (name: string): string => readFileSync(new URL(`../testdata/${name}`, import.meta.url), 'utf8');
const SUCCESS = 'The operation completed successfully. 0x0 (WIN32: 0)';

describe('capture replay', () => {
  it('ok/certnew.cer error page for a pending request equals the capture', () => {
    const expected = crlf(
      capture('nokia-adcs-issuer_certnew.cer-errorpage.tmpl')
        .replace('{{ .DispositionMessage }}', 'Taken Under Submission')
        .replace('{{ .LastStatus }}', SUCCESS),
    );
    const actual = renderErrorPage({
      caName: 'NokiaInternalSubCA07',
      mode: 'fetch',
      disposition: 5,
      dispositionMessage: 'Taken Under Submission',
      result: SUCCESS,
      comErrorInfo: '',
      lastStatus: SUCCESS,
    });
    expect(actual).toBe(expected);
  });

  it('ok/401 body equals the first <html> block of the capture', () => {
    const text = capture('nokia-adcs-issuer_iis-401-unauthorized.tmpl');
    const first = text.slice(0, text.indexOf('</html>') + '</html>'.length) + '\n';
    expect(UNAUTHORIZED_BODY).toBe(crlf(first));
  });

  it.each([
    ['ok/nRenewals script variable', /var nRenewals=(\{\{ \.Renewals \}\}|\d+);/],
    ['ok/lbCaInstance current entry', /<Option Value="0" Selected><LocID ID=locCurCertEntry>Current<\/LocID> <LocID ID=locCaNameNoRen1>\[NokiaInternalSubCA07\]<\/LocID>/],
    ['ok/chain link builder', /location="certnew\.p7b\?ReqID=CACert&Renewal="\+getChosenRenewal\(\)\+"&"\+getEncoding\(\);/],
    ['ok/base CRL link builder', /location="certcrl\.crl\?Type=base&Renewal="\+nSource\+"&"\+getEncoding\(\);/],
    ['ok/page title', /<P ID=locPageTitle2> <B> Download a CA Certificate, Certificate Chain, or CRL<\/B>/],
  ])('%s appears in both the capture and certcarc.asp', (_n, pattern) => {
    const ours = renderCertCarc('NokiaInternalSubCA07', 0);
    expect([pattern.test(capture('nokia-adcs-issuer_certcarc.asp.tmpl')), pattern.test(ours)]).toEqual([true, true]);
  });
});
