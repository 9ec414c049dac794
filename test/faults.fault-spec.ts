/**
 * Faults (`npm run test:faults`, run by CI after `npm test`): workers killed or stopped in the
 * middle of a document, Redis restarted or paused, and a burst of uploads. A job accepted
 * with 202 must end completed, failed with a specific code, or cancelled: never lost or stuck.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createServer, connect, Server, Socket } from 'node:net';
import { denseScannedPdf, digitalPdf, scannedPdf } from './fixtures';
import { startReceiver } from './receivers';
import {
  connectionOf,
  freePort,
  JobBody,
  runHealthcheck,
  Stack,
  startRedis,
  startStack,
  TestRedis,
  until,
  upload,
  waitForJob,
} from './harness';

jest.setTimeout(600_000);

const pagesDone = async (stack: Stack, id: string) =>
  ((await (await fetch(`${stack.baseUrl}/v1/jobs/${id}`)).json()) as JobBody).progress?.pagesDone ?? 0;
/** Pages a worker logged as done for a document. */
const pagesLogged = (output: string, id: string) =>
  [...output.matchAll(new RegExp(`Page (\\d+) of ${id}: \\w+ in`, 'g'))].map((m) => Number(m[1]));

describe('workers killed or stopped mid-document', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startRedis({ own: true });
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('SIGKILL: another worker finishes, every page once, only the page in flight redone', async () => {
    const stack = await startStack({ redisUrl: redis.url, workers: 2 });
    try {
      const { body } = await upload(stack.baseUrl, await scannedPdf(8));
      await until('two pages done', async () => (await pagesDone(stack, body.id)) >= 2, 120_000);
      const [killed, survivor] = stack.workers;
      await killed.stop('SIGKILL');
      const job = await waitForJob(stack.baseUrl, body.id, 240_000);
      expect(job.status).toBe('completed');
      expect(job.result!.pages.map((p) => p.page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(job.result!.pages.every((p) => p.text.includes('lazy dog'))).toBe(true);
      const before = pagesLogged(killed.output, body.id);
      const after = pagesLogged(survivor.output, body.id);
      const redone = after.filter((p) => before.includes(p));
      console.log(`SIGKILL: the killed worker did pages ${before}, the survivor ${after}; redone: ${redone.length ? redone : 'none'}`);
      expect(new Set([...before, ...after]).size).toBe(8);
      // The killed worker ran one page at a time (OCR_CONCURRENCY=1): at most that one is done twice.
      expect(redone.length).toBeLessThanOrEqual(1);
    } finally {
      await stack.stop();
    }
  });

  it('a page outlives two workers killed under it (maxStalledCount)', async () => {
    const stack = await startStack({ redisUrl: redis.url, workers: 0 });
    const pages = new Queue('pages', { connection: connectionOf(redis.url), prefix: stack.env.QUEUE_PREFIX });
    try {
      const { body } = await upload(stack.baseUrl, await denseScannedPdf());
      for (const round of [1, 2]) {
        const since = Date.now();
        const worker = await stack.startWorker();
        // Taken by this worker: a page left by the last one stays "active" until found stalled.
        const taken = async () => (await pages.getJobs(['active'])).some((j) => (j.processedOn ?? 0) >= since);
        await until(`worker ${round} to take the page`, taken, 120_000, 50);
        await worker.stop('SIGKILL');
      }
      await stack.startWorker();
      const job = await waitForJob(stack.baseUrl, body.id, 240_000);
      expect(job.error).toBeNull();
      expect(job.status).toBe('completed');
    } finally {
      await pages.close();
      await stack.stop();
    }
  });

  it('SIGTERM: the worker takes no new page, finishes the one it has, and exits 0', async () => {
    const stack = await startStack({ redisUrl: redis.url, workers: 2 });
    try {
      const { body } = await upload(stack.baseUrl, await scannedPdf(6));
      await until('a page done', async () => (await pagesDone(stack, body.id)) >= 1, 120_000);
      const [leaving] = stack.workers;
      leaving.child.kill('SIGTERM');
      const code = await leaving.exited;
      // Counted in the worker's own log, after it heard the signal: a page finished just before
      // it may reach this process's copy of the output only after the kill.
      const heard = leaving.output.indexOf('SIGTERM: finishing the pages in flight');
      expect(heard).toBeGreaterThan(-1);
      const doneAfter = pagesLogged(leaving.output.slice(heard), body.id).length;
      console.log(`SIGTERM: exit code ${code}, pages finished after the signal: ${doneAfter}`);
      expect(code).toBe(0);
      expect(leaving.child.signalCode).toBeNull();
      expect(doneAfter).toBeLessThanOrEqual(1);
      expect(leaving.output).not.toMatch(/will retry|Shutdown took longer/);
      const job = await waitForJob(stack.baseUrl, body.id, 240_000);
      expect(job.status).toBe('completed');
      expect(job.result!.pages.map((p) => p.page)).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      await stack.stop();
    }
  });
});

describe('Redis away', () => {
  let redis: TestRedis;
  let stack: Stack;
  const heartbeat = `/tmp/ocr-faults-heartbeat-${process.pid}`;

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: true });
    stack = await startStack({ redisUrl: redis.url, env: { HEARTBEAT_FILE: heartbeat, RATE_LIMIT: '10000' } });
  });

  afterAll(async () => {
    redis?.resume();
    await stack?.stop();
    await redis?.stop();
  });

  const answer = async (path: string) => {
    try {
      const res = await fetch(`${stack.baseUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
      return { status: res.status, code: ((await res.json()) as { code?: string }).code };
    } catch {
      return { status: 'no answer' };
    }
  };

  it('restarted (append-only file): 503 while it is down, then every job accepted before and after completes', async () => {
    const before = await upload(stack.baseUrl, await scannedPdf(4));
    await until('a page done', async () => (await pagesDone(stack, before.body.id)) >= 1, 120_000);
    await redis.down();
    expect(await answer(`/v1/jobs/${before.body.id}`)).toEqual({ status: 503, code: 'queue_unavailable' });
    expect((await upload(stack.baseUrl, await digitalPdf())).res.status).toBe(503);
    expect((await answer('/health/ready')).status).toBe(503);
    await redis.up();
    const after = await until('an upload to be accepted again', async () => {
      const attempt = await upload(stack.baseUrl, await scannedPdf(2));
      return attempt.res.status === 202 && attempt;
    });
    for (const id of [before.body.id, after.body.id]) {
      const job = await waitForJob(stack.baseUrl, id, 240_000);
      expect({ id, status: job.status }).toEqual({ id, status: 'completed' });
    }
    expect(stack.workers[0].child.exitCode).toBeNull();
  });

  it('paused: the API answers 503, the worker reads unhealthy, and both recover by themselves', async () => {
    const before = await upload(stack.baseUrl, await scannedPdf(2));
    expect(before.res.status).toBe(202);
    expect(runHealthcheck('worker', { ...stack.env, HEARTBEAT_FILE: heartbeat })).toMatchObject({ status: 0 });
    redis.pause();
    try {
      expect(await answer(`/v1/jobs/${before.body.id}`)).toEqual({ status: 503, code: 'queue_unavailable' });
      expect((await answer('/health/ready')).status).toBe(503);
      // The worker stops writing its heartbeat; after 30 s its container healthcheck fails.
      await until(
        'the worker healthcheck to fail',
        async () => runHealthcheck('worker', { ...stack.env, HEARTBEAT_FILE: heartbeat }).status === 1,
        60_000,
        1000,
      );
    } finally {
      redis.resume();
    }
    await until(
      'the worker healthcheck to pass',
      async () => runHealthcheck('worker', { ...stack.env, HEARTBEAT_FILE: heartbeat }).status === 0,
      60_000,
      1000,
    );
    const after = await upload(stack.baseUrl, await scannedPdf(2));
    for (const id of [before.body.id, after.body.id]) {
      const job = await waitForJob(stack.baseUrl, id, 240_000);
      expect({ id, status: job.status }).toEqual({ id, status: 'completed' });
    }
  });
});

describe('a worker killed around the completion of a document with a webhook', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startRedis({ own: true });
  });

  afterAll(async () => {
    await redis?.stop();
  });

  // Webhooks need a secret to sign with; the receiver listens on loopback over plain HTTP.
  const webhookEnv = { WEBHOOK_SECRET: 'fault-spec-secret', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_ALLOW_HTTP: 'true' };

  for (const [point, when] of [
    ['deliveries-queued', 'after its webhook is queued, before BullMQ records the completion'],
    ['completion-recorded', 'just after BullMQ records the completion'],
  ] as const) {
    it(`${when}: the webhook is sent once, by the next worker`, async () => {
      const receiver = await startReceiver();
      const stack = await startStack({ redisUrl: redis.url, workers: 0, env: webhookEnv });
      try {
        const doomed = await stack.startWorker({ OCR_FAULT_POINT: point });
        const { body } = await upload(stack.baseUrl, await digitalPdf(), { callbackUrl: receiver.url });
        expect(body).toMatchObject({ id: expect.any(String) });
        await until('the worker to die at the fault point', async () => doomed.child.signalCode === 'SIGKILL', 60_000).catch((e) => {
          throw new Error(`${e}: ${doomed.output.slice(-3000)}`);
        });
        expect(receiver.deliveries).toHaveLength(0);
        await stack.startWorker();
        const job = await waitForJob(stack.baseUrl, body.id, 120_000);
        expect(job.status).toBe('completed');
        // A delivery the killed worker held is taken up once its lock expires and a stalled check runs.
        await until('the webhook', async () => receiver.deliveries.length > 0, 150_000);
        // Time for a second delivery, were there one.
        await new Promise((r) => setTimeout(r, 3000));
        expect(receiver.deliveries).toHaveLength(1);
        expect(JSON.parse(receiver.deliveries[0].body)).toMatchObject({ id: body.id, status: 'completed' });
      } finally {
        await stack.stop();
        await receiver.close();
      }
    });
  }
});

/**
 * A TCP proxy to Redis that can go silent on the connections that have sent a blocking
 * command: nothing passes either way and nothing is closed, as when a NAT or a firewall
 * drops a connection without telling either end.
 */
async function silencingProxy(redisUrl: string) {
  const links: { client: Socket; blocking: boolean; silent: boolean }[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(connectionOf(redisUrl).port, '127.0.0.1');
    const link = { client, blocking: false, silent: false };
    links.push(link);
    client.on('data', (data) => {
      if (/bzpopmin/i.test(data.toString('latin1'))) link.blocking = true;
      if (!link.silent) upstream.write(data);
    });
    upstream.on('data', (data) => void (link.silent || client.write(data)));
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ]) {
      a.on('close', () => b.destroy());
      a.on('error', () => b.destroy());
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${port}`,
    /** Silences every blocking connection open now; the number silenced. */
    silenceBlocking: () => links.filter((l) => l.blocking && !l.silent && !l.client.destroyed).map((l) => (l.silent = true)).length,
    close: () => {
      for (const l of links) l.client.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("a worker's blocking connections lost while Redis stays up", () => {
  let redis: TestRedis;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedis({ own: true });
    admin = new Redis(connectionOf(redis.url));
  });

  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  it('killed by Redis (CLIENT KILL): the worker reconnects and takes the next job', async () => {
    const stack = await startStack({ redisUrl: redis.url });
    try {
      expect((await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, await digitalPdf())).body.id)).status).toBe('completed');
      const list = (await admin.call('CLIENT', 'LIST')) as string;
      const blocked = [...list.matchAll(/id=(\d+) .*cmd=bzpopmin/g)].map((m) => m[1]);
      expect(blocked.length).toBeGreaterThan(0);
      for (const id of blocked) await admin.call('CLIENT', 'KILL', 'ID', id);
      const next = await upload(stack.baseUrl, await digitalPdf());
      expect((await waitForJob(stack.baseUrl, next.body.id, 60_000)).status).toBe('completed');
    } finally {
      await stack.stop();
    }
  });

  it('gone silent (no reply, no close): the worker notices within seconds, reconnects and takes the next job', async () => {
    const proxy = await silencingProxy(redis.url);
    // The API on Redis directly; the worker through the proxy.
    const stack = await startStack({ redisUrl: redis.url, workers: 0 });
    try {
      await stack.startWorker({ REDIS_URL: proxy.url });
      expect((await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, await digitalPdf())).body.id)).status).toBe('completed');
      // One blocking connection per BullMQ worker of the process, each waiting for a job.
      await until('the worker to block for jobs', async () => proxy.silenceBlocking() > 0 || null, 30_000);
      const next = await upload(stack.baseUrl, await digitalPdf());
      // BullMQ gives a blocking wait its timeout plus a second before it drops the connection and opens another.
      const job = await waitForJob(stack.baseUrl, next.body.id, 60_000);
      expect(job.status).toBe('completed');
    } finally {
      await stack.stop();
      await proxy.close();
    }
  });
});

describe('a burst of uploads', () => {
  it('500 uploads from 50 clients: each gets 202, or 429/503 with Retry-After, and every 202 completes', async () => {
    const redis = await startRedis({ own: true });
    const stack = await startStack({ redisUrl: redis.url, workers: 2, env: { RATE_LIMIT: '300', RATE_LIMIT_WINDOW_SECONDS: '60' } });
    const documents = new Queue('documents', { connection: connectionOf(redis.url), prefix: stack.env.QUEUE_PREFIX });
    try {
      const pdf = await digitalPdf();
      const results: { status: number; retryAfter: string | null; id?: string }[] = [];
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          for (let i = 0; i < 10; i++) {
            const { res, body } = await upload(stack.baseUrl, pdf);
            results.push({ status: res.status, retryAfter: res.headers.get('retry-after'), id: body.id });
          }
        }),
      );
      const count = (status: number) => results.filter((r) => r.status === status).length;
      console.log(`Burst: ${results.length} uploads, ${count(202)} accepted, ${count(429)} rate limited, ${count(503)} unavailable`);
      expect(results).toHaveLength(500);
      for (const r of results) {
        expect([202, 429, 503]).toContain(r.status);
        expect(Number(r.retryAfter)).toBeGreaterThan(0);
      }
      expect(count(202)).toBeGreaterThan(0);
      // Polled in Redis: the API's own polls would count against the same rate limit.
      const accepted = results.filter((r) => r.status === 202).map((r) => r.id!);
      await until(
        'every accepted job to complete',
        async () => (await Promise.all(accepted.map((id) => documents.getJobState(id)))).every((s) => s === 'completed'),
        300_000,
        1000,
      );
    } finally {
      await documents.close();
      await stack.stop();
      await redis.stop();
    }
  });
});
