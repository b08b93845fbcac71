import { describe, expect, it } from 'vitest';
import { redactUrl } from './log-serializers.ts';

describe('redactUrl', () => {
  it.each([
    ['ok/no query', '/api/v1/certificates', '/api/v1/certificates'],
    ['ok/harmless parameters kept', '/api/v1/orders?status=pending&limit=20', '/api/v1/orders?status=pending&limit=20'],
    ['ok/OAuth callback code and state', '/api/v1/connections/azure/oauth/callback?code=0.AXo-secret&state=abc&session_state=s1',
      '/api/v1/connections/azure/oauth/callback?code=[redacted]&state=[redacted]&session_state=[redacted]'],
    ['ok/names compared without case and after decoding', '/x?Client_Secret=s&%70assword=p&a=1', '/x?Client_Secret=[redacted]&%70assword=[redacted]&a=1'],
    ['ok/a bare name without value stays', '/x?code&b=2', '/x?code&b=2'],
    ['ok/broken percent-encoding does not throw', '/x?%E0%A4%A=1&token=t', '/x?%E0%A4%A=1&token=[redacted]'],
  ])('%s', (_name, url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
