/**
 * certcarc.asp: "Download a CA Certificate, Certificate Chain, or CRL". Clients read
 * `var nRenewals=K;` and then fetch certnew.cer / certnew.p7b with `ReqID=CACert&Renewal=K`.
 * Structure (lbCaInstance list, link handlers) follows
 * adcs-captures/nokia-adcs-issuer_certcarc.asp.tmpl; the long VBScript enrollment-proxy block
 * of the real page is left out because no client reads it.
 */
import { crlf, esc } from '../iis.ts';
import { pageTop, pageBottom, GREEN_HR } from './layout.ts';

export function renderCertCarc(caName: string, renewals: number): string {
  const scripts = `<Script Language="JavaScript">
	//================================================================
	// PAGE GLOBAL VARIABLES

	// constants
	var CRL_AVAILABLE=3; // == CA_DISP_VALID

	// CA state information
	var nRenewals=${renewals};
	var rgCrlState=new Array(
		3
		);

	function handleGetCert() {
		location="certnew.cer?ReqID=CACert&Renewal="+getChosenRenewal()+"&"+getEncoding();
	}
	function handleInstCert() {
		location="certnew.cer?ReqID=CACert&Renewal="+getChosenRenewal()+"&Mode=inst&Enc=b64";
	}
	function handleGetChain() {
		location="certnew.p7b?ReqID=CACert&Renewal="+getChosenRenewal()+"&"+getEncoding();
	}
	function handleGetBaseCrl() {
		var nSource=getChosenRenewal();
		while (nSource>0 && CRL_AVAILABLE!=rgCrlState[nSource]) {
			nSource--;
		}
		location="certcrl.crl?Type=base&Renewal="+nSource+"&"+getEncoding();
	}
	function getChosenRenewal() {
		return nRenewals-document.UIForm.lbCaInstance[document.UIForm.lbCaInstance.selectedIndex].value;
	}
	function getEncoding() {
		if (true==document.UIForm.rbEncoding[0].checked) {
			return "Enc=bin";
		} else {
			return "Enc=b64";
		}
	}
</Script>`;
  return crlf(`${pageTop(esc(caName))}


<Form Name=UIForm>
<P ID=locPageTitle2> <B> Download a CA Certificate, Certificate Chain, or CRL</B>
${GREEN_HR}

<P>
    <LocID ID=locInstallNN>
    To trust certificates issued from this certification authority,
    <A Href="certnew.cer?ReqID=CACert&amp;Renewal=${renewals}&amp;Mode=inst&amp;Enc=b64">install this CA certificate</A>.
    </LocID>

<P>
<LocID ID=locPrompt>To download a CA certificate, certificate chain, or CRL, select the certificate and encoding method.</B></LocID>
<Table Border=0 CellSpacing=0 CellPadding=0>
	<TR>
		<TD ID=locCaCertHead ColSpan=3><Font ID=Font_lbCaID Face="Arial" Size=-1><BR><Label For=lbCaID ID=Lable_lbCaID ><B>CA certificate:</B></Label></Font></TD>
	</TR>
	<TR>
		<TD Align=Right VAlign=Top ID=locCaCertLabel></TD>
		<TD><Select Size=4 Name=lbCaInstance ID=lbCaID>
				<Option Value="0" Selected><LocID ID=locCurCertEntry>Current</LocID> <LocID ID=locCaNameNoRen1>[${esc(caName)}]</LocID>
			</Select>
		</TD>
	</TR>
	<TR>
		<TD ID=locEncodingHead ColSpan=3><Font Face="Arial" Size=-1><BR><B>Encoding method:</B></Font></TD>
	</TR>
	<TR><TD></TD>
		<TD><Font ID=locEncDerFont Face="Arial">
			<Input Type=Radio ID=rbDerEnc Name=rbEncoding Checked><Label For=rbDerEnc ID=locDerEnc0>DER</Label>
			</Font>
		</TD>
	</TR>
	<TR><TD></TD>
		<TD><Font ID=locEncB64Font Face="Arial">
			<Input Type=Radio ID=rbB64Enc Name=rbEncoding><Label For=rbB64Enc ID=locB64Enc0>Base 64</Label>
			</Font>
		</TD>
	</TR>
</Table>

<Table CellSpacing=0 CellPadding=0>
	<TR><TD></TD><TD><Font ID=locInstCaCFont Face="Arial"><A Href="#" OnClick="handleInstCert();return false;"><LocID ID=locInstallCert>Install CA certificate</LocID></A></Font></TD></TR>
	<TR><TD></TD><TD><Font ID=locDlCaCFont2 Face="Arial"><A Href="#" OnClick="handleGetCert();return false;"><LocID ID=locDownloadCert2>Download CA certificate</LocID></A></Font></TD></TR>
	<TR><TD></TD><TD><Font ID=locDlCaCpFont2 Face="Arial"><A Href="#" OnClick="handleGetChain();return false;"><LocID ID=locDownloadCertChain2>Download CA certificate chain</LocID></A></Font></TD></TR>
	<TR><TD></TD><TD><Font ID=locDlBaseCrlFont2 Face="Arial"><A Href="#" OnClick="handleGetBaseCrl();return false;"><LocID ID=locDownloadBaseCRL2>Download latest base CRL</LocID></A></Font></TD></TR>
</Table>

<BR>
</Form>
${pageBottom(scripts)}`);
}
