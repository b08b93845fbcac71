/** API representations the UI reads (packages/server/src/http/dto.ts and the route files). */
export type Role = 'admin' | 'operator' | 'requester' | 'auditor';
export type AppRole = 'owner' | 'requester' | 'viewer';
export type OrderStatus = 'pending' | 'issued' | 'denied' | 'failed' | 'cancelled';
export type CertStatus = 'active' | 'revoked' | 'expired';

export interface Me { id: string; username: string; role: Role; via?: string }
export interface Page<T> { items: T[]; nextCursor?: string | null }

export interface User { id: string; username: string; role: Role; disabled: boolean; createdAt: string }
export interface Token { id: string; userId: string; name: string; prefix: string; expiresAt: string | null; revokedAt: string | null; lastUsedAt: string | null; createdAt: string }

export interface Ca {
  id: string; name: string; type: string; status: 'active' | 'disabled'; parentId: string | null; subject: string; serial: string | null;
  keyAlgorithm: string | null; notBefore: string | null; notAfter: string | null; ocspSigning: 'ca' | 'delegated'; certificate: string | null; createdAt: string;
  /** Connector CAs only: the pool (connector ids, first member first) and job settings. */
  connector?: { connectors: string[]; jobTimeoutSeconds: number; sanAttribute: boolean; caName: string | null };
}
export interface CaServer {
  connectionId: string; name: string; url: string; priority: number; maxRequestsPerSecond: number | null;
  circuit: string; lastCheckAt: string | null; healthy: boolean | null; lastError: string | null;
}
export interface Template { name: string; displayName: string; kind: string; servers: string[]; refreshedAt: string }

export interface Policy { id: string; name: string; description: string; rules: Record<string, unknown>; createdAt: string; updatedAt: string }
export interface ProfileDefaults { validityDays?: number; keyAlgorithm?: string; keyUsages?: string[]; extendedKeyUsages?: string[] }
export interface Profile {
  id: string; slug: string; name: string; caId: string; policyId: string; defaults: ProfileDefaults; template: string | null;
  pendingLifetimeDays: number | null; broken: boolean; brokenReason: string | null; createdAt: string; updatedAt: string;
}
export interface Application { id: string; name: string; description: string; createdAt: string; updatedAt: string }
export interface Member { userId: string; username: string; role: AppRole }
export interface ApplicationDetail extends Application { profiles: Profile[]; members: Member[] }

export interface San { type: string; value: string }
export interface Order {
  id: string; status: OrderStatus; applicationId: string; profileId: string; caId: string; requesterId: string | null; protocol: string;
  subject: string; commonName: string | null; adcsDomain: string | null;
  sans: San[]; keyAlgorithm: string | null; caRequestId: string | null; caServer: string | null; template: string | null;
  disposition: string | null; hresult: string | null; error: Record<string, unknown> | null; attempts: number; nextPollAt: string | null;
  warning: string | null; certificateId: string | null; serverGeneratedKey: boolean; createdAt: string; updatedAt: string;
}
export interface CertificateSummary {
  id: string; serial: string; subject: string; sans: San[]; status: CertStatus; caId: string; applicationId: string; profileId: string;
  orderId: string | null; requesterId: string | null; keyAlgorithm: string; fingerprintSha256: string; notBefore: string; notAfter: string;
  revokedAt: string | null; revocationReason: string | null; renewedFromId: string | null; revocationPendingAtCa?: boolean; revocationNote?: string; createdAt: string;
}
export interface Certificate extends CertificateSummary { hasServerGeneratedKey: boolean; certificate: string; chain: string[] }
export interface IssueResult { order: Order; certificate?: Certificate }

export interface Connection {
  id: string; name: string; type: string; url: string; domain: string; username: string; auth: string; caPem: string | null;
  rejectUnauthorized: boolean; timeoutMs: number; maxSockets: number; warnings: string[]; createdAt: string; updatedAt: string;
  passwordSet: boolean; keytabSet: boolean; keytabPrincipal: string | null; kdcs: string[];
}
export interface ConnectionTest {
  connectionId: string; ok: boolean; reachable: boolean;
  tls: { ok: boolean; trusted?: boolean; code?: string; message?: string; protocol?: string };
  auth: { ok: boolean; kind: string; message?: string }; epaRequired: boolean | null; caName?: string;
  templates?: { name: string; displayName?: string }[]; roundTripMs?: number; error?: { code: string; message: string; httpStatus?: number; hresult?: string };
}

export interface AuditEntry {
  seq: number; id: string; occurredAt: string; actor: { type: string; id: string | null; name: string | null }; action: string;
  resourceType: string; resourceId: string | null; outcome: string; details: Record<string, unknown>; hash: string;
}
export interface AuditVerification { ok: boolean; rows: number; head: string; problem?: { seq: string; kind: string; message: string } }

export const KEY_ALGORITHMS = ['EC-P256', 'EC-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096'] as const;
export const REVOCATION_REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise'] as const;
export const KEY_USAGES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;
export const EKUS = ['serverAuth', 'clientAuth', 'codeSigning', 'emailProtection', 'timeStamping', 'ocspSigning', 'smartcardLogon'] as const;
