/**
 * certfnsh.asp outcome pages (Mode=newreq and Mode=chkpnd): "Certificate Issued",
 * "Certificate Pending" and "Certificate Request Denied". These were not captured; they follow
 * the certsrv pages of Windows Server 2012–2022 as widely scraped by clients, which rely on:
 *   issued  — `certnew.cer?ReqID=(\d+)&` (both the HTML link with `&amp;Enc=` and the script's
 *             `"certnew.cer?ReqID=N&"+getEncoding()`),
 *   pending — "Certificate Pending" and `Your Request Id is (\d+).`,
 *   denied  — "Certificate Request Denied" and `The disposition message is "([^"]+)`.
 */
import { crlf, esc } from '../iis.ts';
import { pageTop, pageBottom, GREEN_HR } from './layout.ts';

export function renderIssued(caName: string, reqId: number): string {
  const scripts = `<Script Language="JavaScript">
	//----------------------------------------------------------------
	// Return the encoding parameter based upon the radio button
	function getEncoding() {
		if (true==document.UIForm.rbEncoding[0].checked) {
			return "Enc=bin";
		} else {
			return "Enc=b64";
		}
	}
	function handleGetCert() {
		location="certnew.cer?ReqID=${reqId}&"+getEncoding();
	}
	function handleGetChain() {
		location="certnew.p7b?ReqID=${reqId}&"+getEncoding();
	}
</Script>`;
  return crlf(`${pageTop(esc(caName))}
<Form Name=UIForm>
<P ID=locPageTitle> <B> Certificate Issued </B>
${GREEN_HR}

<P ID=locPageDesc> The certificate you requested was issued to you.

<P>
<Table Border=0 CellSpacing=0 CellPadding=0>
	<TR><TD></TD>
		<TD><Font ID=locDerFont Face="Arial">
			<Input Type=Radio ID=rbDerEnc Name=rbEncoding><Label For=rbDerEnc ID=locDerEnc>DER encoded</Label> <LocID ID=locOr>or</LocID>
			<Input Type=Radio ID=rbB64Enc Name=rbEncoding Checked><Label For=rbB64Enc ID=locB64Enc>Base 64 encoded</Label>
			</Font>
		</TD>
	</TR>
	<TR><TD></TD>
		<TD><Font ID=locDlFont Face="Arial">
			<A Href="certnew.cer?ReqID=${reqId}&amp;Enc=b64" OnClick="handleGetCert();return false;"><LocID ID=locDownloadCert3>Download certificate</LocID></A>
			</Font>
		</TD>
	</TR>
	<TR><TD></TD>
		<TD><Font ID=locDlChainFont Face="Arial">
			<A Href="certnew.p7b?ReqID=${reqId}&amp;Enc=b64" OnClick="handleGetChain();return false;"><LocID ID=locDownloadCertChain3>Download certificate chain</LocID></A>
			</Font>
		</TD>
	</TR>
</Table>
</Form>
${pageBottom(scripts)}`);
}

export function renderPending(caName: string, reqId: number): string {
  return crlf(`${pageTop(esc(caName))}
<P ID=locPageTitle> <B> Certificate Pending </B>
${GREEN_HR}

<P ID=locPageDesc> Your certificate request has been received. However, you must wait for an administrator to issue the certificate you requested.

<P ID=locReqIdDesc> Your Request Id is ${reqId}.

<P ID=locPleaseReturn> Please return to this web site in a day or two to retrieve your certificate.

<P ID=locNote> <Font Size=-1><I>Note: You must return with this web browser within 10 days to retrieve your certificate</I></Font>
${pageBottom()}`);
}

export function renderDenied(caName: string, reqId: number, dispositionMessage: string): string {
  return crlf(`${pageTop(esc(caName))}
<P ID=locPageTitle> <B> Certificate Request Denied </B>
${GREEN_HR}

<P ID=locDenied> Your certificate request was denied.

<P ID=locContactAdmin> Contact your administrator for further assistance.

<!-- Advanced info -->
<P ID=locAdvInfo><Font Size=-1>
Your Request Id is ${reqId}.  The disposition message is "${esc(dispositionMessage)}".
</Font>
${pageBottom()}`);
}
