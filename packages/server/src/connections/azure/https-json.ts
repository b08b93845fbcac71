import https from 'node:https';

export interface JsonResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
}

/**
 * One JSON request over node:https with the connection's agent (its CA PEM); shared by the Graph
 * client and msal-node's network module. A body that is not JSON is an error naming the request.
 */
export function httpsJson(method: string, url: string, opts: { headers?: Record<string, string>; body?: string; agent?: https.Agent | undefined; timeoutMs?: number } = {}): Promise<JsonResponse> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers: opts.headers ?? {}, timeout: timeoutMs, ...(opts.agent ? { agent: opts.agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          reject(new Error(`${method} ${new URL(url).pathname} answered ${res.statusCode} with a body that is not JSON: ${text.slice(0, 120)}`));
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
