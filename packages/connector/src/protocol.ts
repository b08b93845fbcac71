import { z } from 'zod';

/**
 * The connector wire protocol, version 1: JSON text frames over `wss://…/connector/v1/ws`.
 * Every message carries `v: 1` and a `type`; each side validates what it receives with these
 * schemas and answers an invalid or oversized frame with an `error` message instead of closing,
 * so one bad frame never drops the other jobs on the socket.
 */
export const PROTOCOL_VERSION = 1;
/** Largest frame either side accepts (a PKCS#12 with a chain fits well under it). */
export const MAX_MESSAGE_BYTES = 256 * 1024;
export const HEARTBEAT_INTERVAL_MS = 15_000;

const adcsOptions = z.object({
  baseUrl: z.string().url(),
  username: z.string(),
  password: z.string(),
  domain: z.string(),
  auth: z.enum(['ntlm', 'kerberos', 'negotiate', 'basic']),
  ca: z.string().optional(),
  rejectUnauthorized: z.boolean().optional(),
  timeoutMs: z.number().int().positive().optional(),
  maxSockets: z.number().int().positive().optional(),
  /** Kerberos: the connection's keytab, base64 (it travels like the password, inside the mutually authenticated socket). */
  keytab: z.string().max(100_000).optional(),
  /** Kerberos: KDCs of the realm `domain`, so the connector needs no krb5.conf entry for it. */
  kdcs: z.array(z.string().max(300)).max(8).optional(),
}).strict();
export type AdcsOptionsWire = z.infer<typeof adcsOptions>;

const san = z.object({ type: z.enum(['dns', 'ip', 'email', 'uri', 'upn']), value: z.string() });

/** What a job asks the connector to do; `adcs` is filled in by the server instance that sends it. */
export const jobSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('templates') }),
  z.object({ kind: z.literal('ca-chain') }),
  z.object({ kind: z.literal('submit'), csrPem: z.string().max(64 * 1024), template: z.string(), sans: z.array(san).optional(), notAfter: z.string().datetime().optional() }),
  z.object({ kind: z.literal('retrieve'), requestId: z.number().int().positive() }),
  z.object({
    kind: z.literal('enroll-keygen'), template: z.string(), subject: z.string(), sans: z.array(san).default([]),
    keyAlgorithm: z.enum(['EC-P256', 'EC-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096']), password: z.string().min(1),
  }),
  /**
   * Revocation at ADCS with `certutil -config <config> -revoke <serialHex> <reason>`. `config` is
   * the CA config string `<host>\<CA name>`; `reason` is the CRLReason code of RFC 5280 5.3.1,
   * which is certutil's numbering too (0 unspecified … 6 certificateHold; 7 is unused).
   */
  z.object({
    kind: z.literal('revoke'), config: z.string().regex(/^[^\\\s"]+\\[^\\"]+$/).max(300),
    serialHex: z.string().regex(/^[0-9a-fA-F]{1,64}$/), reason: z.number().int().min(0).max(10).refine((n) => n !== 7, 'reason 7 is not a CRLReason'),
  }),
]);
export type JobSpec = z.infer<typeof jobSpec>;

/** The outcome of an ADCS request as the connector saw it (mirrors adcs-client SubmitResult). */
/**
 * `warning` is set when the connector re-ran a job its journal shows was interrupted mid-way
 * (killed during the ADCS round trip): ADCS may then hold an earlier request for the same job.
 */
const warning = z.string().max(500).optional();
export const submitOutcome = z.discriminatedUnion('status', [
  z.object({ status: z.literal('issued'), requestId: z.number(), certificatePem: z.string(), pkcs12: z.string().optional(), warning }),
  z.object({ status: z.literal('pending'), requestId: z.number(), dispositionMessage: z.string(), warning }),
  z.object({ status: z.literal('denied'), requestId: z.number().optional(), dispositionMessage: z.string(), hresult: z.string().optional(), warning }),
]);
export type SubmitOutcome = z.infer<typeof submitOutcome>;

/** The answer to a `templates` job (adcs-client TemplateInfo). */
export const templateList = z.array(z.object({ name: z.string(), displayName: z.string(), kind: z.enum(['E', 'O']) }));

export const serverMessage = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('job'), id: z.string().uuid(), job: jobSpec, adcs: adcsOptions.optional() }),
  z.object({ v: z.literal(1), type: z.literal('heartbeat-ack'), at: z.string() }),
  z.object({ v: z.literal(1), type: z.literal('error'), message: z.string(), id: z.string().optional() }),
  /** The answer to `renew`: the new client certificate for the key the connector generated. */
  z.object({ v: z.literal(1), type: z.literal('renewed'), certificatePem: z.string().max(16 * 1024) }),
]);
export type ServerMessage = z.infer<typeof serverMessage>;

export const connectorMessage = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('hello'), version: z.string().max(64) }),
  z.object({ v: z.literal(1), type: z.literal('heartbeat'), at: z.string() }),
  /** Self-renewal before expiry: a PKCS#10 for a key generated on the connector. */
  z.object({ v: z.literal(1), type: z.literal('renew'), csr: z.string().min(100).max(20_000) }),
  z.object({
    v: z.literal(1), type: z.literal('result'), id: z.string().uuid(),
    outcome: z.discriminatedUnion('ok', [
      z.object({ ok: z.literal(true), result: z.unknown() }),
      // answerLost (optional: older connectors do not send it): a submission reached ADCS and its answer was lost.
      z.object({ ok: z.literal(false), error: z.object({ message: z.string().max(4000), retryable: z.boolean(), answerLost: z.boolean().optional() }) }),
    ]),
  }),
]);
export type ConnectorMessage = z.infer<typeof connectorMessage>;

export type Parsed<T> = { ok: true; message: T } | { ok: false; reason: string };

/** Decodes one frame: size first, then JSON, then the schema. */
export function decodeFrame<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, data: string | Buffer): Parsed<T> {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (size > MAX_MESSAGE_BYTES) return { ok: false, reason: `message of ${size} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit` };
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return { ok: false, reason: 'message is not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `message does not match protocol v${PROTOCOL_VERSION}: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  return { ok: true, message: parsed.data };
}
