import { createHash } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digitalPdf, scannedPdf } from './fixtures';
import { freePort, Proc, Stack, startProcess, startRedis, startStack, until, upload, waitForJob } from './harness';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const errorBody = (statusCode: number, code: string) => ({ statusCode, code, error: expect.any(String), message: expect.any(String) });

describe('API keys', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let stack: Stack;

  beforeAll(async () => {
    redis = await startRedis();
    // One key given plain, one as its hash.
    stack = await startStack({ redisUrl: redis.url, env: { API_KEYS: `${KEY_A}, sha256:${sha256(KEY_B)}` } });
  });

  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it.each([
    ['no key', {}],
    ['an unknown key', bearer('not-a-key-0123456789')],
    ['an unknown X-API-Key', { 'x-api-key': 'not-a-key-0123456789' }],
    ['another scheme', { authorization: `Basic ${Buffer.from(`x:${KEY_A}`).toString('base64')}` }],
  ])('answers 401 unauthorized to /v1 calls with %s', async (_what, headers) => {
    for (const [method, path] of [
      ['GET', '/v1/jobs/00000000-0000-0000-0000-000000000000'],
      ['DELETE', '/v1/jobs/x'],
      ['GET', '/v1/jobs/x/result'],
    ]) {
      const res = await fetch(`${stack.baseUrl}${path}`, { method, headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.json()).toEqual(errorBody(401, 'unauthorized'));
    }
    const { res, body } = await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', headers as Record<string, string>);
    expect(res.status).toBe(401);
    expect(body).toEqual(errorBody(401, 'unauthorized'));
  });

  it('takes a key as a bearer token or in X-API-Key, configured plain or hashed', async () => {
    const a = await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', bearer(KEY_A));
    expect(a.res.status).toBe(202);
    expect((await waitForJob(stack.baseUrl, a.body.id, 60_000, { 'x-api-key': KEY_A })).status).toBe('completed');
    const b = await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', { 'x-api-key': KEY_B });
    expect(b.res.status).toBe(202);
    expect((await waitForJob(stack.baseUrl, b.body.id, 60_000, bearer(KEY_B))).status).toBe('completed');
  });

  it("answers 404 job_not_found for another key's job, on every route, as for no job at all", async () => {
    const { body } = await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', bearer(KEY_A));
    await waitForJob(stack.baseUrl, body.id, 60_000, bearer(KEY_A));
    const unknown = await (await fetch(`${stack.baseUrl}/v1/jobs/00000000-0000-0000-0000-000000000000`, { headers: bearer(KEY_B) })).json();
    for (const [method, path] of [
      ['GET', ''],
      ['GET', '/result'],
      ['GET', '/result?format=txt'],
      ['DELETE', ''],
    ]) {
      const res = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}${path}`, { method, headers: bearer(KEY_B) });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ ...(unknown as object), message: expect.stringContaining(body.id) });
    }
    // The owner still has it, whole: the other key's DELETE did nothing.
    const own = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/result?format=txt`, { headers: bearer(KEY_A) });
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('Acme Widgets');
  });

  it('keeps a cancelled job hidden from other keys too', async () => {
    const { body } = await upload(stack.baseUrl, await scannedPdf(3), {}, 'doc.pdf', bearer(KEY_A));
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`, { method: 'DELETE', headers: bearer(KEY_A) })).status).toBe(204);
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`, { headers: bearer(KEY_B) })).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`, { method: 'DELETE', headers: bearer(KEY_B) })).status).toBe(404);
    expect(await (await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`, { headers: bearer(KEY_A) })).json()).toMatchObject({
      status: 'cancelled',
    });
  });

  it('leaves health and metrics open, and keeps the dashboard off without admin credentials', async () => {
    for (const path of ['/health', '/health/live', '/health/ready', '/metrics'])
      expect((await fetch(`${stack.baseUrl}${path}`)).status).toBe(200);
    const dashboard = await fetch(`${stack.baseUrl}/admin/queues`);
    expect(dashboard.status).toBe(404);
    expect(await dashboard.json()).toEqual(errorBody(404, 'not_found'));
    expect(stack.api.output).toMatch(/Queue dashboard is off/);
  });

  it('sends security headers and no stack traces', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/jobs/x`, { headers: { ...bearer(KEY_A), 'x-request-id': 'trace-me-42' } });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-request-id')).toBe('trace-me-42');
    const text = await (await fetch(`${stack.baseUrl}/nowhere`)).text();
    expect(JSON.parse(text)).toEqual(errorBody(404, 'not_found'));
    expect(text).not.toMatch(/\bat .*\.js:\d+/);

    // An unexpected failure: the uploads folder turned into a file, so storing the upload throws.
    const uploads = join(stack.env.STORAGE_DIR, 'uploads');
    renameSync(uploads, `${uploads}.away`);
    writeFileSync(uploads, 'not a folder');
    try {
      const { res, body } = await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', bearer(KEY_A));
      expect(res.status).toBe(500);
      expect(body).toEqual(errorBody(500, 'internal_error'));
      const failure = JSON.stringify(body);
      expect(failure).not.toMatch(/\bat .*\.js:\d+|ENOTDIR|EEXIST/);
      expect(failure).not.toContain(stack.env.STORAGE_DIR);
    } finally {
      rmSync(uploads);
      renameSync(`${uploads}.away`, uploads);
    }
  });
});

describe('rate limits', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let stack: Stack;
  let replica: Proc;
  let replicaUrl: string;

  beforeAll(async () => {
    redis = await startRedis();
    stack = await startStack({
      redisUrl: redis.url,
      workers: 0,
      env: { API_KEYS: `${KEY_A},${KEY_B}`, RATE_LIMIT: '5', RATE_LIMIT_WINDOW_SECONDS: '60' },
    });
    // A second API process on the same Redis: the limit is one budget across both.
    const port = await freePort();
    replica = startProcess('api', { ...stack.env, PORT: String(port) });
    replicaUrl = `http://127.0.0.1:${port}`;
    await until('the second API', async () => (await fetch(`${replicaUrl}/health/live`)).ok);
  });

  afterAll(async () => {
    await replica?.stop();
    await stack?.stop();
    await redis?.stop();
  });

  const burst = async (count: number, headers: Record<string, string>) => {
    const responses: Response[] = [];
    for (let i = 0; i < count; i++) responses.push(await fetch(`${[stack.baseUrl, replicaUrl][i % 2]}/v1/jobs/unknown`, { headers }));
    return responses;
  };

  it('answers 429 rate_limited with Retry-After past the limit, across API replicas', async () => {
    const responses = await burst(8, bearer(KEY_A));
    expect(responses.map((r) => r.status)).toEqual([404, 404, 404, 404, 404, 429, 429, 429]);
    const limited = responses[7];
    expect(await limited.json()).toEqual(errorBody(429, 'rate_limited'));
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('counts each key on its own, and callers without a key by address', async () => {
    expect((await burst(1, bearer(KEY_B)))[0].status).toBe(404);
    expect((await burst(6, {})).map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('never limits health checks or metrics', async () => {
    for (let i = 0; i < 8; i++) {
      expect((await fetch(`${stack.baseUrl}/health/live`)).status).toBe(200);
      expect((await fetch(`${stack.baseUrl}/metrics`)).status).toBe(200);
    }
  });
});

describe('live streams and long polls', () => {
  let stack: Stack;
  const open: AbortController[] = [];

  beforeAll(async () => {
    // No worker: jobs stay queued, so every stream and long poll stays open until closed.
    stack = await startStack({
      workers: 0,
      env: { API_KEYS: `${KEY_A},${KEY_B}`, MAX_STREAMS_PER_KEY: '2', MAX_STREAMS_PER_ADDRESS: '3' },
    });
  });

  afterAll(async () => {
    for (const abort of open) abort.abort();
    await stack?.stop();
  });

  /** GET `path` and keep it open; the response once its headers have come. */
  const hold = async (path: string, key: string) => {
    const abort = new AbortController();
    open.push(abort);
    const res = await fetch(`${stack.baseUrl}${path}`, { headers: bearer(key), signal: abort.signal });
    return { res, close: () => abort.abort() };
  };
  const refused = async (res: Response) => ({
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as { code: string },
  });

  it('are capped per key and per address with 429 too_many_streams and Retry-After, and a closed one frees its place', async () => {
    const a = (await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', bearer(KEY_A))).body.id;
    const b = (await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', bearer(KEY_B))).body.id;
    const first = await hold(`/v1/jobs/${a}/events`, KEY_A);
    // A long poll counts as a stream: the headers come only at its end, so it is not awaited.
    const poll = fetch(`${stack.baseUrl}/v1/jobs/${a}?wait=60`, { headers: bearer(KEY_A), signal: AbortSignal.timeout(120_000) });
    void poll.catch(() => undefined);
    expect(first.res.status).toBe(200);

    const limited = { status: 429, retryAfter: expect.stringMatching(/^\d+$/), body: errorBody(429, 'too_many_streams') };
    await until('the long poll to be counted', async () => (await refused((await hold(`/v1/jobs/${a}/events`, KEY_A)).res)).status === 429);
    expect(await refused((await hold(`/v1/jobs/${a}/events`, KEY_A)).res)).toEqual(limited);
    expect(await refused((await hold(`/v1/jobs/${a}?wait=30`, KEY_A)).res)).toEqual(limited);
    // A job's plain status is no stream.
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${a}`, { headers: bearer(KEY_A) })).status).toBe(200);

    // Another key from the same address: its own first stream, then the address is full (3).
    const other = await hold(`/v1/jobs/${b}/events`, KEY_B);
    expect(other.res.status).toBe(200);
    expect(await refused((await hold(`/v1/jobs/${b}/events`, KEY_B)).res)).toEqual(limited);

    // A client that goes away frees its place.
    first.close();
    const again = await until('a closed stream to free its place', async () => {
      const next = await hold(`/v1/jobs/${a}/events`, KEY_A);
      if (next.res.status === 200) return next;
      await next.res.body?.cancel();
      return undefined;
    });
    expect(again.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  });
});
