/**
 * Starts the real thing for end-to-end specs: a redis-server of its own on a free port
 * (or REDIS_URL with a unique queue prefix), and the compiled API and worker processes.
 */
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

export async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => undefined };
  const port = await freePort();
  const redis = new Proc(
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'pipe' }),
  );
  await until(
    'redis-server',
    async () =>
      redis.output.includes('Ready to accept connections') || (redis.child.exitCode !== null && Promise.reject(new Error(redis.output))),
    10_000,
  );
  return { url: `redis://127.0.0.1:${port}`, stop: async () => void (await redis.stop()) };
}

export interface Stack {
  baseUrl: string;
  env: Record<string, string>;
  api: Proc;
  workers: Proc[];
  startWorker(extraEnv?: Record<string, string>): Promise<Proc>;
  stop(): Promise<void>;
}

export function startProcess(entry: 'api' | 'worker', env: Record<string, string>): Proc {
  return new Proc(spawn(process.execPath, [join(ROOT, 'dist', `${entry}.main.js`)], { env: { ...process.env, ...env }, stdio: 'pipe' }));
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
      await ownRedis?.stop();
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
