/**
 * `/certsrv/` (certdflt.asp): the Welcome page with the three task links. Text as on Windows
 * Server 2012–2022; not from a capture.
 */
import { crlf, esc } from '../iis.ts';
import { pageTop, pageBottom, GREEN_HR } from './layout.ts';

export function renderWelcome(caName: string): string {
  return crlf(`${pageTop(esc(caName))}
<P ID=locPageTitle> <B> Welcome </B>
${GREEN_HR}

<P ID=locPageDesc>
Use this Web site to request a certificate for your Web browser,
e-mail client, or other program. By using a certificate, you can verify
your identity to people you communicate with over the Web, sign and
encrypt messages, and, depending upon the type of certificate you
request, perform other security tasks.

<P ID=locPageDesc2>
You can also use this Web site to download a certificate authority (CA)
certificate, certificate chain, or certificate revocation list (CRL),
or to view the status of a pending request.

<P ID=locTaskHead><B>Select a task:</B>
<BR>&nbsp;&nbsp;&nbsp;&nbsp;<A Href="certrqus.asp" ID=locReqCert>Request a certificate</A>
<BR>&nbsp;&nbsp;&nbsp;&nbsp;<A Href="certckpn.asp" ID=locCheckPending>View the status of a pending certificate request</A>
<BR>&nbsp;&nbsp;&nbsp;&nbsp;<A Href="certcarc.asp" ID=locDownloadCa>Download a CA certificate, certificate chain, or CRL</A>
<P>
${pageBottom()}`);
}

/** certrqus.asp: "Request a Certificate" with the link to the advanced request. */
export function renderRequestChoice(caName: string): string {
  return crlf(`${pageTop(esc(caName))}
<P ID=locPageTitle> <B> Request a Certificate </B>
${GREEN_HR}

<P ID=locSelectType>Select the certificate type:
<BR>&nbsp;&nbsp;&nbsp;&nbsp;<A Href="certrqbi.asp?type=0">User Certificate</A>
<P ID=locAdvancedReq>Or, submit an <A Href="certrqxt.asp">advanced certificate request</A>.
<P>
${pageBottom()}`);
}
