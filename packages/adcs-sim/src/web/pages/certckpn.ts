/**
 * certckpn.asp: "View the Status of a Pending Certificate Request". On a real CA the list comes
 * from request cookies the browser stored at submission; the emulator lists the caller's own
 * requests that are still pending (a documented deviation). Each entry posts Mode=chkpnd with
 * ReqID to certfnsh.asp.
 */
import type { RequestRecord } from '../../state/requests.ts';
import { crlf, esc } from '../iis.ts';
import { pageTop, pageBottom, GREEN_HR } from './layout.ts';

export function renderCertCkPn(caName: string, pending: RequestRecord[]): string {
  const rows = pending
    .map(
      (r) =>
        `<BR>&nbsp;&nbsp;&nbsp;&nbsp;<A Href="#" OnClick="checkPending(${r.id});return false;">Saved-Request Certificate (${esc(new Date(r.submittedAt).toUTCString())})</A> <!-- ReqID=${r.id} -->`,
    )
    .join('\n');
  const body =
    pending.length === 0
      ? '<P ID=locNoPending> There are no pending certificate requests.'
      : `<P ID=locSelectReq> Select the certificate request you want to view:\n${rows}`;
  const scripts = `<Script Language="JavaScript">
	function checkPending(nReqId) {
		document.SubmittedData.ReqID.value=nReqId;
		document.SubmittedData.submit();
	}
</Script>`;
  return crlf(`${pageTop(esc(caName))}
<Form Name=SubmittedData Action="certfnsh.asp" Method=Post>
	<Input Type=Hidden Name=Mode Value="chkpnd">
	<Input Type=Hidden Name=ReqID>
</Form>
<P ID=locPageTitle> <B> View the Status of a Pending Certificate Request </B>
${GREEN_HR}

${body}
<P>
${pageBottom(scripts)}`);
}
