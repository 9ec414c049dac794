/**
 * Holes found in review: made-up ids, forged storage keys, a paused Redis, and a 503 that
 * must not leave a job behind.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { digitalPdf, scannedPdf } from './fixtures';
import { slowToOpenPdf } from './hostile-fixtures';
import { connectionOf, freePort, JobBody, Stack, startRedis, startStack, TestRedis, until, upload, waitForJob } from './harness';

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

describe('a slow request (slowloris)', () => {
  let stack: Stack;
  const IDLE_MS = 2000;
  const REQUEST_MS = 5000;

  beforeAll(async () => {
    stack = await startStack({
      workers: 0,
      env: { HEADERS_TIMEOUT_MS: String(IDLE_MS), BODY_IDLE_TIMEOUT_MS: String(IDLE_MS), REQUEST_TIMEOUT_MS: String(REQUEST_MS) },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /**
   * Sends `head` on a raw socket, then `trickle` a byte at a time every `everyMs` (or, for
   * `everyMs` null, nothing more); resolves with what came back and when the socket closed.
   */
  function slowRequest(head: string, everyMs: number | null) {
    const port = Number(new URL(stack.baseUrl).port);
    return new Promise<{ reply: string; ms: number }>((resolve, reject) => {
      const started = Date.now();
      let reply = '';
      const socket = connect({ host: '127.0.0.1', port }, () => socket.write(head));
      const drip = everyMs === null ? null : setInterval(() => socket.writable && socket.write('x'), everyMs);
      // Far past every limit under test: the request is not ended by the server at all.
      const giveUp = setTimeout(() => {
        socket.destroy();
        reject(new Error(`still open after 60 s; got ${JSON.stringify(reply)}`));
      }, 60_000);
      socket.on('data', (d) => (reply += d));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (drip) clearInterval(drip);
        clearTimeout(giveUp);
        resolve({ reply, ms: Date.now() - started });
      });
    });
  }

  const incoming = () => readdirSync(join(stack.env.STORAGE_DIR, 'incoming'));
  const multipartHead = () => {
    const preamble =
      '--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n';
    return (
      `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000\r\n\r\n` + preamble
    );
  };

  const rawHead = () => 'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\nContent-Length: 10000000\r\n\r\n%PDF-1.4\n';
  const uploads: [string, () => string][] = [
    ['a multipart upload', multipartHead],
    ['a raw upload', rawHead],
  ];

  it.each(uploads)('ends %s whose body stalls with 408 request_timeout, and removes its temporary file', async (_what, head) => {
    const { reply, ms } = await slowRequest(head(), null);
    console.log(`stalled body: closed after ${ms} ms (BODY_IDLE_TIMEOUT_MS ${IDLE_MS})`);
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ statusCode: 408, code: 'request_timeout' });
    // Bounded by construction: the limit, and the 1 s at which Node checks connections.
    expect(ms).toBeLessThan(IDLE_MS + 10_000);
    await until('the temporary file to be removed', async () => incoming().length === 0, 10_000);
  });

  it.each(uploads)('ends %s that trickles a byte every 250 ms, never idle, at REQUEST_TIMEOUT_MS', async (_what, head) => {
    const { reply, ms } = await slowRequest(head(), 250);
    console.log(`trickled body: closed after ${ms} ms (REQUEST_TIMEOUT_MS ${REQUEST_MS})`);
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    // Node's bare 408 for the whole request, not the idle limit's request_timeout: the body never paused.
    expect(reply).not.toContain('request_timeout');
    expect(ms).toBeLessThan(REQUEST_MS + 10_000);
    await until('the temporary file to be removed', async () => incoming().length === 0, 10_000);
  });

  it('ends a request whose headers never end at HEADERS_TIMEOUT_MS', async () => {
    const { reply, ms } = await slowRequest('GET /health HTTP/1.1\r\nHost: x\r\n', 500);
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeLessThan(IDLE_MS + 10_000);
  });

  it('leaves long polls and event streams open past every limit: their requests have ended', async () => {
    const { body } = await upload(stack.baseUrl, await digitalPdf());
    // No worker: the job stays queued, so the poll waits its whole 7 s.
    const poll = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}?wait=7`);
    expect(poll.status).toBe(200);
    expect(((await poll.json()) as JobBody).status).toBe('queued');

    const abort = new AbortController();
    const events = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/events`, { signal: abort.signal });
    expect(events.status).toBe(200);
    const reader = events.body!.getReader();
    let ended = false;
    const reading = (async () => {
      while (!(await reader.read()).done);
      ended = true;
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, REQUEST_MS + 2000));
    expect(ended).toBe(false);
    abort.abort();
    await reading;
  });
});
