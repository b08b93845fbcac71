/**
 * HTTP status handling shared by every certsrv call: a 200 is a page to parse, anything else is
 * an `AdcsError` whose code tells the caller whether another server may help.
 */
import { AdcsError } from './errors.ts';
import { excerptOf } from './pages/html.ts';
import type { LaneResponse } from './http/lane.ts';

/** Throws for non-2xx answers; returns the response otherwise. */
export function expectOk(res: LaneResponse, what: string): LaneResponse {
  if (res.status >= 200 && res.status < 300) return res;
  const excerpt = excerptOf(res.body.toString('latin1'));
  const details = { httpStatus: res.status, ...(excerpt ? { excerpt } : {}) };
  if (res.status >= 500) return fail('ADCS_UNAVAILABLE', `${what}: the server answered HTTP ${res.status}`, details);
  if (res.status === 401 || res.status === 403) return fail('ADCS_AUTH_FAILED', `${what}: access denied (HTTP ${res.status})`, details);
  if (res.status === 404) return fail('ADCS_UNEXPECTED_PAGE', `${what}: not found (HTTP 404): is AD CS Web Enrollment installed at this URL?`, details);
  return fail('ADCS_UNEXPECTED_PAGE', `${what}: unexpected HTTP ${res.status}`, details);
}

function fail(code: ConstructorParameters<typeof AdcsError>[0], message: string, details: { httpStatus: number; excerpt?: string }): never {
  throw new AdcsError(code, message, details);
}

export function contentType(res: LaneResponse): string | undefined {
  const value = res.headers['content-type'];
  return Array.isArray(value) ? value[0] : value;
}
