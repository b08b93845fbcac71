/**
 * @certbridge/adcs-client: the Microsoft AD CS web enrollment (certsrv) client shared by the
 * Certbridge server and the on-prem connector.
 */
export { AdcsClient, type SubmitResult, type CaCertificate, type TransportCounters } from './client.ts';
export type { AdcsClientOptions } from './options.ts';
export type { SubmitInput, SanEntry, ValidityRequest } from './request-form.ts';
export type { ProbeReport } from './probe.ts';
export type { TemplateInfo } from './pages/templates.ts';
export type { AuthKind } from './auth/types.ts';
export { parseKeytab, keytabPrincipals, KeytabError, type KeytabEntry } from './auth/keytab.ts';
export { AdcsError, isAdcsError, deniedError, type AdcsErrorCode, type AdcsErrorDetails } from './errors.ts';
export type { SelectOptions } from './auth/select.ts';
export { KNOWN_HRESULTS, findHresult } from './pages/hresult.ts';
export { parseSubmitPage, parseRetrievePage, type PageOutcome } from './pages/outcome.ts';
export { parseTemplates } from './pages/templates.ts';
export { parseCaArchive } from './pages/certcarc.ts';
export { parseDlFields, type DlFields } from './pages/dl-fields.ts';
export { md4 } from './auth/ntlm/md4.ts';
export { NtlmContext, type NtlmCredentials } from './auth/ntlm/context.ts';
export { ntlmChannelBindings, tlsServerEndPoint } from './auth/ntlm/channel-bindings.ts';
