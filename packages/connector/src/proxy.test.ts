import { describe, expect, it } from 'vitest';
import { proxyFor } from './proxy.ts';

const target = new URL('https://certbridge.corp.example:8443');

describe('proxyFor (HTTPS_PROXY / NO_PROXY)', () => {
  it.each([
    ['ok/no-proxy-set', {}, undefined],
    ['ok/https-proxy', { HTTPS_PROXY: 'http://proxy.corp.example:3128' }, 'http://proxy.corp.example:3128/'],
    ['ok/lower-case-and-no-scheme', { https_proxy: 'proxy:8080' }, 'http://proxy:8080/'],
    ['ok/credentials-kept-for-proxy-authorization', { HTTPS_PROXY: 'http://u:p%40ss@proxy:3128' }, 'http://u:p%40ss@proxy:3128/'],
    ['ok/no-proxy-other-domain', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'other.example,10.0.0.1' }, 'http://proxy:3128/'],
    ['ok/no-proxy-other-port', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'corp.example:443' }, 'http://proxy:3128/'],
    ['fail/no-proxy-suffix', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'corp.example' }, undefined],
    ['fail/no-proxy-dot-suffix', { HTTPS_PROXY: 'http://proxy:3128', no_proxy: '.corp.example' }, undefined],
    ['fail/no-proxy-exact-with-port', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'certbridge.corp.example:8443' }, undefined],
    ['fail/no-proxy-star', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*' }, undefined],
  ])('%s', (_name, env, expected) => {
    expect(proxyFor(target, env)?.href).toBe(expected);
  });
});
