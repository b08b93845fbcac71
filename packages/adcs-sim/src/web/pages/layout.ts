/**
 * The chrome every certsrv page shares (Windows Server 2012–2022 web enrollment): the teal title
 * bar "Microsoft Active Directory Certificate Services -- <CA name>" with the Home link, green
 * rules, and the closing "End of standard text" marker, as in the captured pages
 * (adcs-captures/nokia-adcs-issuer_certcarc.asp.tmpl, …_certnew.cer-errorpage.tmpl).
 */

export const GREEN_HR =
  '<!-- Green HR --><Table Border=0 CellSpacing=0 CellPadding=0 Width=100%><TR><TD BgColor=#008080><Img Src="certspc.gif" Alt="" Height=2 Width=1></TD></TR></Table>';
export const WHITE_HR =
  '<!-- White HR --><Table Border=0 CellSpacing=0 CellPadding=0 Width=100%><TR><TD BgColor=#FFFFFF><Img Src="certspc.gif" Alt="" Height=5 Width=1></TD></TR></Table>';

/** Page head and title bar. */
export function pageTop(caName: string, bodyAttrs = ''): string {
  return `<HTML>
<Head>
    <Meta HTTP-Equiv="Content-Type" Content="text/html; charset=UTF-8">
    <Meta HTTP-Equiv="X-UA-Compatible" Content="IE=7">
    <Title>Microsoft Active Directory Certificate Services</Title>
</Head>
<Body BgColor=#FFFFFF Link=#0000FF VLink=#0000FF ALink=#0000FF${bodyAttrs}><Font ID=locPageFont Face="Arial">

<Table Border=0 CellSpacing=0 CellPadding=4 Width=100% BgColor=#008080>
<TR>
	<TD><Font Color=#FFFFFF><LocID ID=locMSCertSrv><Font Face="Arial" Size=-1><B><I>Microsoft</I></B> Active Directory Certificate Services &nbsp;--&nbsp; ${caName} &nbsp;</Font></LocID></Font></TD>
	<TD ID=locHomeAlign Align=Right><A Href="/certsrv"><Font Color=#FFFFFF><LocID ID=locHomeLink><Font Face="Arial" Size=-1><B>Home</B></Font></LocID></Font></A></TD>
</TR>
</Table>
`;
}

/** Closing rules, end-of-text marker and optional scripts (the capture has a tab after "no scripts"). */
export function pageBottom(scripts = '<!-- no scripts -->\t'): string {
  return `
${GREEN_HR}
${WHITE_HR}

</Font>
<!-- ############################################################ -->
<!-- End of standard text. Scripts follow  -->

${scripts}

</Body>
</HTML>
`;
}
