/**
 * certsrv's generic error page (certrser.asp): HTTP 200 text/html with a <DL> of "Request Mode",
 * "Disposition", "Disposition message", "Result", "COM Error Info", "LastStatus" and
 * "Suggested Cause". Each value is on the line after <DD>, indented by two tabs — clients
 * scrape it with `Disposition message:[^\t]+\t\t([^\r\n]+)`. Layout from
 * adcs-captures/nokia-adcs-issuer_certnew.cer-errorpage.tmpl.
 */
import { crlf, esc } from '../iis.ts';
import { pageTop, pageBottom, GREEN_HR } from './layout.ts';

export type RequestMode = 'fetch' | 'newreq' | 'chkpnd';

export interface ErrorPageInput {
  caName: string;
  mode: RequestMode;
  /** CR_DISP number, or undefined for "(never set)". */
  disposition?: number;
  dispositionMessage: string;
  /** "Result:" — the HRESULT text of the failing call (success text when the call itself worked). */
  result: string;
  comErrorInfo: string;
  lastStatus: string;
}

const modeText: Record<RequestMode, [string, string]> = {
  fetch: ['locModeCertFetch', '(certnew.cer/certnew.p7b/certcrl.crl certificate/crl fetch)'],
  newreq: ['locModeNewReq', 'newreq - New Request'],
  chkpnd: ['locModeChkPnd', 'chkpnd - Check Pending Request'],
};

/**
 * Disposition labels. The capture shows "5 - (unknown)" for a pending request, so the page only
 * names some values; which ones is not known — everything is rendered "(unknown)" like the capture.
 */
function dispositionLine(d: number | undefined): string {
  if (d === undefined) return '<LocID ID=locDispNeverSet>(never set)</LocID>';
  return `${d} <LocID ID=locDispSpacer>-</LocID> \n\t\t\t\n\t\t\t\t<LocID ID=locDispUnknown>(unknown)</LocID>\n\t\t\t`;
}

export function renderErrorPage(p: ErrorPageInput): string {
  const [modeId, modeLabel] = modeText[p.mode];
  return crlf(`${pageTop(esc(p.caName))}
<P ID=locPageTitle> <B> Error </B>
${GREEN_HR}



<P ID=locContactAdmin>Contact your administrator for further assistance.
</P>



<!-- Advanced info -->

<DL><DD>

	<DL>

	<DT ID=locModeLabel><Font Size=-1><B>Request Mode:</B></Font></DT><DD>
		 <LocID ID=locModeSpacer>-</LocID>
		
			<LocID ID=${modeId}>${modeLabel}</LocID>
		
	</DD>
	
	<DT ID=locDispLabel><Font Size=-1><B>Disposition:</B></Font></DT><DD>
		${dispositionLine(p.disposition)}
	</DD>

	<DT ID=locDispMsgLabel><Font Size=-1><B>Disposition message:</B></Font></DT><DD>
		${esc(p.dispositionMessage)}
	</DD>

	<DT ID=locResultLabel><Font Size=-1><B>Result:</B></Font></DT><DD>
		${esc(p.result)}
	</DD>
	
	<DT ID=locComInfoLabel><Font Size=-1><B>COM Error Info:</B></Font></DT><DD>
		${esc(p.comErrorInfo)}
	</DD>

	<DT ID=locLastStatLabel><Font Size=-1><B>LastStatus:</B></Font></DT><DD>
		${esc(p.lastStatus)}
	</DD>

	<DT ID=locSugCauseLabel><Font Size=-1><B>Suggested Cause:</B></Font></DT><DD>
		
			<LocID ID=locSugCauseUnknown>
			No suggestions.
			</LocID>
		
	</DD></DL>

</DD></DL>
</Span>



<!--
<Pre>

</Pre>
-->
${pageBottom()}`);
}
