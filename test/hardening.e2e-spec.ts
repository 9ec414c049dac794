/**
 * Holes found in review: made-up ids, forged storage keys, a paused Redis, and a 503 that
 * must not leave a job behind.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digitalPdf, scannedPdf } from './fixtures';
import { slowToOpenPdf } from './hostile-fixtures';
import { connectionOf, freePort, Stack, startRedis, startStack, TestRedis, until, upload, waitForJob } from './harness';

describe('ids and storage keys', () => {
  let redis: TestRedis;
  let stack: Stack;
  let documents: Queue;

  beforeAll(async () => {
    redis = await startRedis();
    stack = await startStack({ redisUrl: redis.url, env: { JOB_ATTEMPTS: '1' } });
    documents = new Queue('documents', { connection: connectionOf(redis.url), prefix: stack.env.QUEUE_PREFIX });
  });

  afterAll(async () => {
    await documents?.close();
    await stack?.stop();
    await redis?.stop();
  });

  it("answers 404 for ids that are not the API's, and never touches the queue's own keys", async () => {
    // A job first, so that the queue's meta hash (pause flag, options) exists.
    const { body } = await upload(stack.baseUrl, await digitalPdf());
    await waitForJob(stack.baseUrl, body.id);
    const client = new Redis(redis.url);
    try {
      const meta = `${stack.env.QUEUE_PREFIX}:documents:meta`;
      expect(await client.exists(meta)).toBe(1);
      for (const id of ['meta', 'id', 'events', 'wait', `${body.id}.p1`]) {
        for (const [method, path] of [
          ['GET', `/v1/jobs/${id}`],
          ['GET', `/v1/jobs/${id}/result`],
          ['DELETE', `/v1/jobs/${id}`],
        ]) {
          const res = await fetch(`${stack.baseUrl}${path}`, { method });
          expect({ path, method, status: res.status }).toEqual({ path, method, status: 404 });
          expect(await res.json()).toMatchObject({ code: 'job_not_found' });
        }
      }
      expect(await client.exists(meta)).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  it("refuses a queued job whose upload key is not the one the API makes (another user's upload)", async () => {
    const victim = await upload(stack.baseUrl, await digitalPdf());
    expect((await waitForJob(stack.baseUrl, victim.body.id)).status).toBe('completed');
    // Someone with access to Redis queues a job that points at the victim's upload.
    const forged = randomUUID();
    await documents.add(
      'document',
      { uploadKey: `uploads/${victim.body.id}.pdf`, languages: 'eng', pages: null, ocr: 'auto' },
      { jobId: forged },
    );
    const job = await waitForJob(stack.baseUrl, forged);
    expect(job.status).toBe('failed');
    expect(job.result).toBeNull();
  });

  it('refuses an upload key that leaves the storage folder', async () => {
    const outside = join(stack.env.STORAGE_DIR, '..', `outside-${randomUUID()}.pdf`);
    writeFileSync(outside, await digitalPdf());
    const forged = randomUUID();
    await documents.add(
      'document',
      { uploadKey: `../${outside.split('/').pop()}`, languages: 'eng', pages: null, ocr: 'auto' },
      { jobId: forged },
    );
    const job = await waitForJob(stack.baseUrl, forged);
    expect(job.status).toBe('failed');
    expect(job.result).toBeNull();
  });

  it('shows clients no storage path when processing fails', async () => {
    // The results folder replaced by a file: writing the result fails with a file-system error.
    rmSync(join(stack.env.STORAGE_DIR, 'pages'), { recursive: true, force: true });
    writeFileSync(join(stack.env.STORAGE_DIR, 'pages'), 'not a folder');
    try {
      const { body } = await upload(stack.baseUrl, await digitalPdf());
      const job = await waitForJob(stack.baseUrl, body.id);
      expect(job.status).toBe('failed');
      expect(job.error!.code).toBe('processing_failed');
      expect(JSON.stringify(job)).not.toContain(stack.env.STORAGE_DIR);
      expect(job.error!.message).not.toMatch(/ENOTDIR|EEXIST|\/pages/);
    } finally {
      rmSync(join(stack.env.STORAGE_DIR, 'pages'), { force: true });
      mkdirSync(join(stack.env.STORAGE_DIR, 'pages'));
    }
  });
});

describe('a paused Redis (SIGSTOP: a hung host, or a network that drops packets)', () => {
  let redis: TestRedis;
  let stack: Stack;

  beforeAll(async () => {
    redis = await startRedis({ own: true });
    // Rate limits on: their Redis client is one that used to wait forever.
    stack = await startStack({ redisUrl: redis.url, env: { RATE_LIMIT: '1000' } });
  });

  afterAll(async () => {
    redis?.resume();
    await stack?.stop();
    await redis?.stop();
  });

  /** The answer, or 'no answer' when there is none within 10 s (a hang). */
  const timed = async (call: (signal: AbortSignal) => Promise<Response>) => {
    const started = Date.now();
    try {
      const res = await call(AbortSignal.timeout(10_000));
      return {
        status: res.status,
        body: (await res.json()) as { code?: string },
        retryAfter: res.headers.get('retry-after'),
        ms: Date.now() - started,
      };
    } catch {
      return { status: 'no answer', body: {}, retryAfter: null, ms: Date.now() - started };
    }
  };

  it('answers 503 queue_unavailable instead of hanging, leaves no job behind a 503, and completes every job it accepted', async () => {
    const before = await upload(stack.baseUrl, await scannedPdf());
    expect(before.res.status).toBe(202);
    redis.pause();
    let resumed = false;
    try {
      const get = await timed((signal) => fetch(`${stack.baseUrl}/v1/jobs/${before.body.id}`, { signal }));
      const form = new FormData();
      form.append('file', new Blob([await digitalPdf()], { type: 'application/pdf' }), 'doc.pdf');
      const post = await timed((signal) => fetch(`${stack.baseUrl}/v1/jobs`, { method: 'POST', body: form, signal }));
      const health = await timed((signal) => fetch(`${stack.baseUrl}/health/ready`, { signal }));
      console.log(
        `Redis paused: GET ${get.status} in ${get.ms} ms, POST ${post.status} in ${post.ms} ms, health ${health.status} in ${health.ms} ms`,
      );
      expect(get).toMatchObject({ status: 503, body: { code: 'queue_unavailable' }, retryAfter: '5' });
      expect(post).toMatchObject({ status: 503, body: { code: 'queue_unavailable' }, retryAfter: '5' });
      expect(health.status).toBe(503);
      redis.resume();
      resumed = true;
    } finally {
      if (!resumed) redis.resume();
    }

    const after = await upload(stack.baseUrl, await digitalPdf());
    expect(after.res.status).toBe(202);
    expect((await waitForJob(stack.baseUrl, before.body.id)).status).toBe('completed');
    expect((await waitForJob(stack.baseUrl, after.body.id)).status).toBe('completed');
    // The add behind the 503 reached Redis when it resumed; the API takes it back out.
    const documents = new Queue('documents', { connection: connectionOf(redis.url), prefix: stack.env.QUEUE_PREFIX });
    try {
      const total = async () => Object.values(await documents.getJobCounts()).reduce((a, b) => a + b, 0);
      await until('the job behind the 503 to be removed', async () => (await total()) === 2, 20_000, 500);
      const jobs = await documents.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed', 'waiting-children']);
      expect(jobs.map((j) => j.id).sort()).toEqual([before.body.id, after.body.id].sort());
    } finally {
      await documents.close();
    }
  });
});

describe('two workers on one host', () => {
  it('both start when they are given the same metrics port, and each serves metrics on a port it names', async () => {
    const stack = await startStack({ workers: 0 });
    try {
      const port = String(await freePort());
      const first = await stack.startWorker({ WORKER_METRICS_PORT: port });
      const second = await stack.startWorker({ WORKER_METRICS_PORT: port });
      const portOf = (output: string) => until('the metrics port in the log', async () => /Metrics on port (\d+)/.exec(output)?.[1]);
      const ports = [await portOf(first.output), await portOf(second.output)];
      expect(ports[0]).toBe(port);
      expect(ports[1]).not.toBe(port);
      for (const p of ports) expect(await (await fetch(`http://127.0.0.1:${p}/metrics`)).text()).toContain('ocr_pages_processed_total');
      expect([first.child.exitCode, second.child.exitCode]).toEqual([null, null]);
      const { body } = await upload(stack.baseUrl, await digitalPdf());
      expect((await waitForJob(stack.baseUrl, body.id)).status).toBe('completed');
    } finally {
      await stack.stop();
    }
  });
});

describe('one slow document', () => {
  it('fails no other document: time limits count from when the work starts, and inspections do not queue', async () => {
    // Slow and fast by construction, not by this machine's speed: the slow document takes
    // minutes to open anywhere (see slowToOpenPdf), a text-layer page some 50 ms, against the
    // shortest limit allowed.
    const slowPdf = slowToOpenPdf();
    const stack = await startStack({ env: { PAGE_TIMEOUT_MS: '1000' } });
    try {
      const slow = await upload(stack.baseUrl, slowPdf);
      const next = await upload(stack.baseUrl, await digitalPdf());
      const [slowJob, nextJob] = await Promise.all([waitForJob(stack.baseUrl, slow.body.id), waitForJob(stack.baseUrl, next.body.id)]);
      console.log(
        `slow document: ${slowJob.status} ${slowJob.error?.message ?? ''}; the one behind it: ${nextJob.status} ${nextJob.error?.message ?? ''}`,
      );
      expect(nextJob.status).toBe('completed');
      expect(slowJob.error?.code).toBe('page_timeout');
    } finally {
      await stack.stop();
    }
  });
});
