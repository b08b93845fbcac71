import { createHttpHeaders, createPipelineRequest, RestError, type HttpClient, type PipelineRequest } from '@azure/core-rest-pipeline';
import { describe, expect, it } from 'vitest';
import { createAzureVaultClient, toVaultError, VaultError } from './key-vault.ts';

const restError = (statusCode: number, code: string, message: string) => {
  const request = createPipelineRequest({ url: 'https://kv.vault.azure.net/certificates/x/import' });
  return new RestError(message, { statusCode, code, request, response: { request, status: statusCode, headers: createHttpHeaders() } });
};

describe('Key Vault errors', () => {
  it.each([
    ['fail/401 bad token', restError(401, 'Unauthorized', 'AKV10032: Invalid issuer.'), /did not accept the connection's token: AKV10032/, false],
    ['fail/403 missing permission', restError(403, 'Forbidden', 'The user does not have certificates import permission.'), /needs the certificates get, import, update, delete and recover permissions/, false],
    ['fail/404', restError(404, 'CertificateNotFound', 'not found'), /^Key Vault answered 404 \(CertificateNotFound\): not found$/, false],
    ['fail/409', restError(409, 'Conflict', 'deleted but recoverable'), /^Key Vault answered 409 \(Conflict\)/, false],
    ['fail/429 after the retries', restError(429, 'Throttled', 'Too many requests'), /throttling requests \(429\) and the retries honouring Retry-After ran out/, true],
    ['fail/503', restError(503, 'ServiceUnavailable', 'try later'), /^Key Vault answered 503/, true],
    ['fail/no answer', new Error('connect ECONNREFUSED 127.0.0.1:1'), /^Key Vault could not be reached: connect ECONNREFUSED/, true],
  ])('%s', (_name, err, message, retryable) => {
    const mapped = toVaultError(err);
    expect(mapped).toBeInstanceOf(VaultError);
    expect(mapped.message).toMatch(message);
    expect(mapped.retryable).toBe(retryable);
  });
});

describe('Key Vault import request', () => {
  it('ok/the import body carries the PFX, its password, tags, enabled and the no-AutoRenew policy', async () => {
    const sent: { method: string; url: string; body: unknown }[] = [];
    // Answers the bearer challenge, then records the authenticated request.
    const httpClient: HttpClient = {
      async sendRequest(request: PipelineRequest) {
        if (!request.headers.get('authorization')) {
          return { request, status: 401, headers: createHttpHeaders({ 'www-authenticate': 'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"' }) };
        }
        sent.push({ method: request.method, url: request.url, body: JSON.parse(String(request.body)) });
        return { request, status: 200, headers: createHttpHeaders({ 'content-type': 'application/json' }), bodyAsText: JSON.stringify({ id: 'https://kv.vault.azure.net/certificates/web/0123456789abcdef0123456789abcdef', attributes: { enabled: true }, tags: { a: 'b' } }) };
      },
    };
    const credential = { getToken: async () => ({ token: 'token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const vault = createAzureVaultClient('https://kv.vault.azure.net', credential, { httpClient });
    const imported = await vault.importPfx('web', new Uint8Array([1, 2, 3]), 'one-time', { a: 'b' });
    expect(imported).toEqual({ name: 'web', version: '0123456789abcdef0123456789abcdef', enabled: true, tags: { a: 'b' } });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toMatch(/^https:\/\/kv\.vault\.azure\.net\/certificates\/web\/import\?api%2Dversion=/);
    expect(sent[0]!.body).toEqual({
      value: 'AQID', pwd: 'one-time', tags: { a: 'b' }, attributes: { enabled: true },
      policy: { issuer: { name: 'Unknown' }, secret_props: { contentType: 'application/x-pkcs12' }, lifetime_actions: [{ trigger: { lifetime_percentage: 80 }, action: { action_type: 'EmailContacts' } }] },
    });
  });
});
