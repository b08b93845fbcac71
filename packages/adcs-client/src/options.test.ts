import { describe, expect, it } from 'vitest';
import { normaliseOptions, type AdcsClientOptions } from './options.ts';

const base: AdcsClientOptions = { baseUrl: 'https://ca.corp.example', username: 'alice', password: 'p', domain: 'CORP', auth: 'ntlm' };

describe('normaliseOptions', () => {
  it.each([
    ['ok/host-only-gets-certsrv', 'https://ca.corp.example', 'https://ca.corp.example', '/certsrv/'],
    ['ok/certsrv-without-slash', 'https://ca.corp.example:9443/certsrv', 'https://ca.corp.example:9443', '/certsrv/'],
    ['ok/certsrv-with-slash', 'https://ca.corp.example/certsrv/', 'https://ca.corp.example', '/certsrv/'],
    ['ok/prefix-path-kept', 'https://proxy.corp.example/adcs1', 'https://proxy.corp.example', '/adcs1/certsrv/'],
  ])('%s', (_name, baseUrl, origin, path) => {
    const n = normaliseOptions({ ...base, baseUrl });
    expect([n.origin.origin, n.certsrvPath, n.rejectUnauthorized, n.timeoutMs, n.maxSockets]).toEqual([origin, path, true, 30_000, 2]);
  });

  it.each([
    ['fail/http-refused', { baseUrl: 'http://ca.corp.example' }, 'baseUrl must use https: (credentials and channel binding need TLS)'],
    ['fail/not-a-url', { baseUrl: 'ca corp' }, 'baseUrl "ca corp" is not a URL'],
    ['fail/unknown-auth', { auth: 'digest' as AdcsClientOptions['auth'] }, 'auth must be one of ntlm, kerberos, negotiate, basic'],
    ['fail/zero-timeout', { timeoutMs: 0 }, 'timeoutMs must be a positive number'],
  ])('%s', (_name, patch, message) => {
    expect(() => normaliseOptions({ ...base, ...patch })).toThrow(message);
  });
});
