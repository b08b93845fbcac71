import { pemEncode } from '@certbridge/pki';
import type { CaRow, CertificateRow, OrderRow, PolicyRow, ProfileRow, UserRow } from '../db/schema.ts';
import type { CertificateListRow } from '../repositories/certificates-repository.ts';
import { connectorCaSettingsSchema } from '../ca-backends/connector/connector-settings.ts';

/** API representations. Secret columns (keys, hashes) are never part of any of them. */
export const userDto = (u: UserRow) => ({ id: u.id, username: u.username, role: u.role, disabled: u.disabled, createdAt: u.created_at });

export const caDto = (c: CaRow) => ({
  id: c.id, name: c.name, type: c.type, status: c.status, parentId: c.parent_id, subject: c.subject, serial: c.serial_hex,
  keyAlgorithm: c.key_algorithm, notBefore: c.not_before, notAfter: c.not_after, ocspSigning: c.settings['ocspSigning'] === 'delegated' ? 'delegated' : 'ca',
  certificate: c.certificate_der ? pemEncode('CERTIFICATE', c.certificate_der) : null, createdAt: c.created_at,
  ...(c.type === 'connector' ? { connector: connectorSettingsDto(c.settings) } : {}),
});

/** A connector CA's pool (first member first, ids) and job settings; nothing in them is secret. */
function connectorSettingsDto(settings: Record<string, unknown>) {
  const s = connectorCaSettingsSchema.parse(settings);
  return { connectors: [s.connector, ...(s.pool ?? [])], jobTimeoutSeconds: s.jobTimeoutSeconds, sanAttribute: s.sanAttribute, caName: s.caName ?? null };
}

export const policyDto = (p: PolicyRow) => ({ id: p.id, name: p.name, description: p.description, rules: p.rules, createdAt: p.created_at, updatedAt: p.updated_at });

export const profileDto = (p: ProfileRow) => ({
  id: p.id, slug: p.slug, name: p.name, caId: p.ca_id, policyId: p.policy_id, defaults: p.defaults, template: p.template,
  pendingLifetimeDays: p.pending_lifetime_days, broken: p.broken_reason !== null, brokenReason: p.broken_reason, createdAt: p.created_at, updatedAt: p.updated_at,
});

export const orderDto = (o: OrderRow) => ({
  id: o.id, status: o.status, applicationId: o.application_id, profileId: o.profile_id, caId: o.ca_id, requesterId: o.requester_id,
  protocol: o.protocol, subject: o.subject, commonName: o.common_name, sans: o.sans, keyAlgorithm: o.key_algorithm, caRequestId: o.ca_request_id, caServer: o.ca_server, adcsDomain: o.adcs_domain,
  template: o.template, disposition: o.disposition, hresult: o.hresult, error: o.error, attempts: o.attempts, nextPollAt: o.next_poll_at,
  warning: o.warning, certificateId: o.certificate_id, serverGeneratedKey: o.key_algorithm !== null && o.csr_der === null, createdAt: o.created_at, updatedAt: o.updated_at,
});

export const certificateSummaryDto = (c: CertificateListRow) => ({
  id: c.id, serial: c.serial_hex, subject: c.subject, sans: c.sans, status: c.status, caId: c.ca_id, applicationId: c.application_id,
  profileId: c.profile_id, orderId: c.order_id, requesterId: c.requester_id, keyAlgorithm: c.key_algorithm, fingerprintSha256: c.fingerprint_sha256,
  notBefore: c.not_before, notAfter: c.not_after, revokedAt: c.revoked_at, revocationReason: c.revocation_reason,
  renewedFromId: c.renewed_from_id, revocationPendingAtCa: c.ca_revocation_pending,
  ...(c.ca_revocation_pending ? { revocationNote: 'revoked in Certbridge, NOT yet at ADCS: it stays valid for relying parties that check the ADCS CRL until it is revoked there' } : {}),
  createdAt: c.created_at,
});

export const certificateDto = (c: CertificateRow) => ({
  ...certificateSummaryDto(c),
  hasServerGeneratedKey: c.private_key_sealed !== null,
  certificate: pemEncode('CERTIFICATE', c.der),
  chain: c.chain.map((b) => pemEncode('CERTIFICATE', Buffer.from(b, 'base64'))),
});
