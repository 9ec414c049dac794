import { digitalPdf, scannedPdf } from './fixtures';
import { freePort, sample, Stack, startProcess, startRedis, startStack, until, upload, waitForJob } from './harness';

// Secrets in force while the logs are written, so that "no secret in the logs" means something.
const KEY = 'ops-key-0123456789abcdef';
const ADMIN_PASSWORD = 'admin-password-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };

describe('health, metrics and logs of a running service', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let stack: Stack;
  let workerMetricsUrl: string;

  beforeAll(async () => {
    redis = await startRedis();
    // Production logs, and an engine recycled after every page so that a restart shows up.
    stack = await startStack({
      redisUrl: redis.url,
      workers: 0,
      env: { LOG_FORMAT: 'json', OCR_RECYCLE_PAGES: '1', API_KEYS: KEY, ADMIN_USER: 'ops', ADMIN_PASSWORD },
    });
    const port = await freePort();
    await stack.startWorker({ WORKER_METRICS_PORT: String(port) });
    workerMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  });

  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('answers liveness and readiness probes, and /health as before', async () => {
    const live = await fetch(`${stack.baseUrl}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${stack.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', details: { redis: { status: 'up' }, queues: { status: 'up' } } });
    expect(await (await fetch(`${stack.baseUrl}/health`)).json()).toMatchObject({ status: 'ok' });
  });

  it('counts the pages of a job, on the API (all workers) and on the worker itself', async () => {
    const scanned = await upload(stack.baseUrl, await scannedPdf(2), {}, 'doc.pdf', AUTH);
    const digital = await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', AUTH);
    expect((await waitForJob(stack.baseUrl, scanned.body.id, 120_000, AUTH)).status).toBe('completed');
    expect((await waitForJob(stack.baseUrl, digital.body.id, 120_000, AUTH)).status).toBe('completed');

    const api = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    expect(sample(api, 'ocr_redis_up')).toBe(1);
    expect(sample(api, 'ocr_jobs_completed_total', { queue: 'pages' })).toBe(3);
    expect(sample(api, 'ocr_jobs_completed_total', { queue: 'documents' })).toBe(2);
    expect(sample(api, 'ocr_jobs', { queue: 'documents', state: 'completed' })).toBe(2);
    expect(sample(api, 'ocr_queue_depth', { queue: 'pages' })).toBe(0);
    expect(sample(api, 'ocr_queue_oldest_waiting_seconds', { queue: 'documents' })).toBe(0);
    expect(sample(api, 'http_request_duration_seconds_count', { method: 'POST', route: '/v1/jobs', status_code: '202' })).toBe(2);
    expect(
      sample(api, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1/jobs/:id', status_code: '200' }),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(api, 'process_cpu_seconds_total')).toBeGreaterThan(0);

    // The document's duration is recorded on BullMQ's "completed" event, just after the job reads as completed.
    const worker = await until('the worker to record both documents', async () => {
      const text = await (await fetch(workerMetricsUrl)).text();
      return sample(text, 'ocr_document_duration_seconds_count') === 2 && text;
    });
    expect(sample(worker, 'ocr_pages_processed_total', { source: 'ocr' })).toBe(2);
    expect(sample(worker, 'ocr_pages_processed_total', { source: 'text' })).toBe(1);
    expect(sample(worker, 'ocr_page_render_seconds_count')).toBe(2);
    expect(sample(worker, 'ocr_page_ocr_seconds_count')).toBe(2);
    expect(sample(worker, 'ocr_page_ocr_seconds_sum')).toBeGreaterThan(0);
    expect(sample(worker, 'ocr_engine_restarts_total', { reason: 'recycle' })).toBe(1);
    expect(sample(worker, 'ocr_queue_wait_seconds_count', { queue: 'pages' })).toBe(3);
    expect(sample(worker, 'ocr_queue_wait_seconds_count', { queue: 'documents' })).toBe(2);
  });

  it('writes one JSON object per line, with the request id and the job id', async () => {
    const { body } = await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', { 'x-api-key': KEY });
    await waitForJob(stack.baseUrl, body.id, 120_000, AUTH);
    await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`, { headers: { 'x-request-id': 'req-from-proxy-1', ...AUTH } });
    // A wrong key and the dashboard's credentials pass through the logs' reach too.
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`, { headers: { authorization: 'Bearer wrong-key-0123456789' } })).status).toBe(
      401,
    );
    const basic = `Basic ${Buffer.from(`ops:${ADMIN_PASSWORD}`).toString('base64')}`;
    expect((await fetch(`${stack.baseUrl}/admin/queues`, { headers: { authorization: basic } })).status).toBe(200);

    const parse = (output: string) =>
      output
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const api = await until('the request log line', async () => {
      const lines = parse(stack.api.output);
      return lines.some((l) => l.requestId === 'req-from-proxy-1') && lines;
    });
    const created = api.find((l) => typeof l.msg === 'string' && l.msg.startsWith('POST /v1/jobs 202') && l.jobId === body.id);
    expect(created).toMatchObject({ level: 30, requestId: expect.any(String), time: expect.any(String) });
    expect(api.find((l) => l.requestId === 'req-from-proxy-1')).toMatchObject({
      jobId: body.id,
      msg: expect.stringMatching(/^GET \/v1\/jobs\/\S+ 200/),
    });
    // Never the headers, which carry keys and credentials.
    expect(stack.api.output).not.toMatch(/authorization|x-api-key/i);
    for (const secret of [KEY, 'wrong-key-0123456789', ADMIN_PASSWORD, basic.slice(6)]) {
      expect(stack.api.output).not.toContain(secret);
      expect(stack.workers[0].output).not.toContain(secret);
    }

    const worker = parse(stack.workers[0].output);
    expect(worker.find((l) => l.jobId === body.id && l.page === 1)).toMatchObject({
      context: 'PageProcessor',
      msg: expect.stringContaining(`Page 1 of ${body.id}`),
    });
    expect(worker.find((l) => l.jobId === body.id && String(l.msg).includes('completed'))).toMatchObject({ context: 'DocumentProcessor' });
  });
});

describe('health and metrics without Redis', () => {
  it('stays live but not ready, and still serves metrics', async () => {
    const port = await freePort();
    const api = startProcess('api', {
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      STORAGE_DIR: '/tmp/ocr-e2e-noredis',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await until('the API to listen', async () => (await fetch(`${base}/health/live`)).ok);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'error', error: { redis: { status: 'down' } } });
      expect((await fetch(`${base}/health`)).status).toBe(503);
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(sample(await metrics.text(), 'ocr_redis_up')).toBe(0);
    } finally {
      await api.stop();
    }
  });
});
