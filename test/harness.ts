/**
 * Starts the real thing for end-to-end specs: a redis-server of its own on a free port
 * (or REDIS_URL with a unique queue prefix), and the compiled API and worker processes.
 */
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/config';
import { LocalBackend } from '../src/storage/local.backend';
import { S3Backend } from '../src/storage/s3.backend';
import type { StorageBackend } from '../src/storage/storage.backend';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The project folder (this file also runs compiled, from dist-bench/). */
let ROOT = __dirname;
while (!existsSync(join(ROOT, 'package.json'))) ROOT = dirname(ROOT);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`Timed out waiting for ${what}${lastError ? `: ${lastError}` : ''}`);
}

export class Proc {
  output = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d) => (this.output += d));
    child.stderr?.on('data', (d) => (this.output += d));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM') {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export interface TestRedis {
  url: string;
  /** REDIS_URL, which others use too: `stop()` leaves it running, and only a stack's own keys go. */
  shared: boolean;
  stop: () => Promise<void>;
  /** SIGSTOP / SIGCONT: a hung host, or a network that drops packets. Only on a Redis the test started. */
  pause: () => void;
  resume: () => void;
  /** Stops it (SIGTERM: with append-only persistence it keeps every write), and starts it again on the same port and data folder. */
  down: () => Promise<void>;
  up: () => Promise<void>;
}

/**
 * A redis-server of the test's own on a free port, or REDIS_URL when set and the spec does
 * not need its own (`own`: to pause or restart it; never the shared one). `appendOnly`
 * keeps its data across `down()` and `up()`.
 */
export async function startRedis(options: { own?: boolean; appendOnly?: boolean } = {}): Promise<TestRedis> {
  if (process.env.REDIS_URL && !options.own && !options.appendOnly) {
    const refuse = () => {
      throw new Error('This spec needs a Redis of its own: startRedis({ own: true })');
    };
    return {
      url: process.env.REDIS_URL,
      shared: true,
      stop: async () => undefined,
      pause: refuse,
      resume: refuse,
      down: async () => refuse(),
      up: async () => refuse(),
    };
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ocr-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  args.push(...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  let redis: Proc;
  const start = async () => {
    redis = new Proc(spawn('redis-server', args, { stdio: 'pipe' }));
    await until(
      'redis-server',
      async () =>
        redis.output.includes('Ready to accept connections') || (redis.child.exitCode !== null && Promise.reject(new Error(redis.output))),
      10_000,
    );
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    shared: false,
    pause: () => redis.child.kill('SIGSTOP'),
    resume: () => redis.child.kill('SIGCONT'),
    down: async () => void (await redis.stop()),
    up: start,
    stop: async () => {
      redis.child.kill('SIGCONT');
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A real S3 server on loopback (s3rver, files in a temp folder) with one bucket, and the
 * environment that points the service at it. s3rver takes the access key S3RVER.
 */
export async function startS3(
  bucket = 'ocr',
): Promise<{ endpoint: string; bucket: string; env: Record<string, string>; stop: () => Promise<void> }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships CommonJS without types
  const S3rver = require('s3rver') as new (options: object) => { run(): Promise<{ port: number }>; close(): Promise<void> };
  const directory = mkdtempSync(join(tmpdir(), 'ocr-e2e-s3-'));
  const server = new S3rver({
    port: await freePort(),
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The storage a stack's processes use, as the service opens it: to look inside it from a test. */
export function storageOf(env: Record<string, string>): StorageBackend {
  const config = loadConfig(env);
  if (!config.s3) return new LocalBackend(config.storageDir);
  return new S3Backend(config.s3, { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
}

/** BullMQ connection options for a redis:// URL, for specs that look into a stack's queues. */
export const connectionOf = (url: string) => ({ host: new URL(url).hostname, port: Number(new URL(url).port) });

/** Deletes every key under `prefix`, as BullMQ's own tests do, so a shared Redis is left as it was found. */
export async function removeQueueData(redisUrl: string, prefix: string) {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

export interface Stack {
  baseUrl: string;
  env: Record<string, string>;
  api: Proc;
  workers: Proc[];
  startWorker(extraEnv?: Record<string, string>): Promise<Proc>;
  stop(): Promise<void>;
}

/** Workers run as `npm run start:worker` runs them, with memory that goes back to the system (scripts/start-worker.sh). */
const START_WORKER = join(ROOT, 'scripts', 'start-worker.sh');

export function startProcess(entry: 'api' | 'worker', env: Record<string, string>): Proc {
  const child =
    entry === 'worker'
      ? spawn('/bin/sh', [START_WORKER], { env: { ...process.env, NODE: process.execPath, ...env }, stdio: 'pipe' })
      : spawn(process.execPath, [join(ROOT, 'dist', `${entry}.main.js`)], { env: { ...process.env, ...env }, stdio: 'pipe' });
  return new Proc(child);
}

/** The containers' healthcheck command, run with `env`: its exit code and what it printed. */
export function runHealthcheck(role: 'api' | 'worker', env: Record<string, string>) {
  const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'healthcheck.main.js'), role], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/**
 * One API and `workers` worker processes on a fresh queue prefix and storage folder, on
 * `redisUrl` or, without it, on a Redis of their own that `stop()` stops too.
 */
export async function startStack(options: { workers?: number; env?: Record<string, string>; redisUrl?: string } = {}): Promise<Stack> {
  const ownRedis = options.redisUrl ? null : await startRedis();
  const redisUrl = options.redisUrl ?? ownRedis!.url;
  const port = await freePort();
  const storage = mkdtempSync(join(tmpdir(), 'ocr-e2e-'));
  const env: Record<string, string> = {
    PORT: String(port),
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `e2e-${randomUUID().slice(0, 8)}`,
    STORAGE_DIR: storage,
    OCR_CONCURRENCY: '1',
    // Several workers share this environment; a spec that reads worker metrics gives its own port.
    WORKER_METRICS_PORT: '0',
    // Specs poll every 200 ms, many jobs at once, far faster than Retry-After asks of clients;
    // the rate-limit spec sets its own limit.
    RATE_LIMIT: '0',
    ...options.env,
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const api = startProcess('api', env);
  const workers: Proc[] = [];
  const startWorker = async (extraEnv: Record<string, string> = {}) => {
    const worker = startProcess('worker', { ...env, ...extraEnv });
    await until(
      'the worker to start',
      async () => worker.output.includes('Worker started') || (worker.child.exitCode !== null && Promise.reject(new Error(worker.output))),
    );
    workers.push(worker);
    return worker;
  };
  for (let i = 0; i < (options.workers ?? 1); i++) await startWorker();
  await until(
    'the API to answer',
    async () => (await fetch(`${baseUrl}/health`)).ok || (api.child.exitCode !== null && Promise.reject(new Error(api.output))),
  );
  return {
    baseUrl,
    env,
    api,
    workers,
    startWorker,
    async stop() {
      await Promise.all([api.stop(), ...workers.map((w) => w.stop())]);
      // A Redis we started goes away whole; on any other, only this stack's keys do.
      if (ownRedis && !ownRedis.shared) await ownRedis.stop();
      else await removeQueueData(redisUrl, env.QUEUE_PREFIX);
      rmSync(storage, { recursive: true, force: true });
    },
  };
}

export interface JobBody {
  id: string;
  status: string;
  progress: { pagesTotal: number | null; pagesDone: number };
  error: { code: string; message: string } | null;
  result: null | {
    pageCount: number;
    text: string;
    pages: {
      page: number;
      source: string;
      text: string;
      confidence: number | null;
      width: number;
      height: number;
      rotation?: number;
      rotationMethod?: string;
      readMethod?: string;
    }[];
  };
  [key: string]: unknown;
}

export async function upload(
  baseUrl: string,
  file: Buffer | null,
  fields: Record<string, string> = {},
  name = 'doc.pdf',
  headers: Record<string, string> = {},
) {
  const form = new FormData();
  if (file) form.append('file', new Blob([file], { type: 'application/pdf' }), name);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${baseUrl}/v1/jobs`, { method: 'POST', body: form, headers });
  return { res, body: (await res.json()) as JobBody };
}

export async function waitForJob(baseUrl: string, id: string, timeoutMs = 120_000, headers: Record<string, string> = {}): Promise<JobBody> {
  return until(
    `job ${id} to finish`,
    async () => {
      const body = (await (await fetch(`${baseUrl}/v1/jobs/${id}`, { headers })).json()) as JobBody;
      return ['completed', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
    },
    timeoutMs,
    200,
  );
}

/** A sample from Prometheus text: the value of `name` with (at least) these labels, or undefined. */
export function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = metrics.split('\n').find((l) => l.split(/[{ ]/)[0] === name && wanted.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}
