/**
 * What the quick start exposes: the compose file as shipped, and the API's split between
 * its public port and the management port.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { freePort, runHealthcheck, startProcess, startRedis, until } from './harness';

interface ComposeService {
  ports?: string[];
  environment?: string[];
  mem_limit?: string;
  command?: string[];
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(__dirname, '..', 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
  const { api, worker, redis } = compose.services;
  const names = (service: ComposeService) => (service.environment ?? []).map((e) => e.split('=')[0]);

  it('publishes the API on 127.0.0.1 only, unless told otherwise, and nothing else', () => {
    expect(api.ports).toEqual(['${API_BIND:-127.0.0.1}:${API_PORT:-3000}:3000']);
    expect(worker.ports).toBeUndefined();
    expect(redis.ports).toBeUndefined();
  });

  it('gives the workers no API keys or dashboard password', () => {
    expect(names(api)).toEqual(expect.arrayContaining(['API_KEYS', 'ADMIN_USER', 'ADMIN_PASSWORD']));
    for (const secret of ['API_KEYS', 'ADMIN_USER', 'ADMIN_PASSWORD']) expect(names(worker)).not.toContain(secret);
  });

  it('limits the memory of every service, and Redis stays under its limit', () => {
    for (const service of [api, worker, redis]) expect(service.mem_limit).toMatch(/^(\$\{\w+:-)?\d+[mg]\}?$/);
    expect(redis.command).toEqual(expect.arrayContaining(['--maxmemory', '--maxmemory-policy', 'noeviction']));
  });

  it('keeps health, metrics and the dashboard off the published port (the API image sets MANAGEMENT_PORT)', () => {
    expect(readFileSync(join(__dirname, '..', 'Dockerfile.api'), 'utf8')).toMatch(/MANAGEMENT_PORT=9000/);
    expect(api.ports!.join()).not.toContain('9000');
  });
});

describe('docker-compose.s3.yml', () => {
  const read = (file: string) => readFileSync(join(__dirname, '..', file), 'utf8');
  type Service = { volumes?: string[]; environment?: string[] | Record<string, string>; command?: string[] };
  const [base, s3] = ['docker-compose.yml', 'docker-compose.s3.yml'].map(
    (file) => parse(read(file), { merge: true }) as { services: Record<string, Service> },
  );
  // What both Docker Compose and podman-compose 1.0.3 do with two files: a volume takes the
  // place of the one with the same path in the container.
  const volumes = (service: string) =>
    new Map(
      [...(base.services[service].volumes ?? []), ...(s3.services[service].volumes ?? [])].map((v) => [v.split(':')[1], v.split(':')[0]]),
    );

  it('is read by podman-compose 1.0.3 too: no YAML tags, and no value set on a bare name of the base file', () => {
    expect(read('docker-compose.s3.yml')).not.toMatch(/^[^#\n]*:\s*!\w/m);
    for (const service of ['api', 'worker']) {
      const bare = (base.services[service].environment as string[]).filter((e) => !e.includes('='));
      expect(Object.keys(s3.services[service].environment ?? {}).filter((name) => bare.includes(name))).toEqual([]);
    }
  });

  it("runs each image's own CMD with the S3 settings in front", () => {
    for (const [service, dockerfile] of [
      ['api', 'Dockerfile.api'],
      ['worker', 'Dockerfile.worker'],
    ]) {
      const cmd = JSON.parse(/^CMD (.*)$/m.exec(read(dockerfile))![1]) as string[];
      const command = s3.services[service].command!;
      expect(command.slice(-cmd.length)).toEqual(cmd);
      expect(command[0]).toBe('env');
      const settings = command.slice(1, -cmd.length).map((e) => e.split('=')[0]);
      expect(settings).toEqual([
        'STORAGE_URL',
        'S3_ENDPOINT',
        'S3_REGION',
        'S3_FORCE_PATH_STYLE',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
      ]);
    }
  });

  it('leaves the API and the workers no volume in common, and the workers their scratch files on none', () => {
    const [api, worker] = [volumes('api'), volumes('worker')];
    expect([...api.values(), ...worker.values()]).not.toContain('storage');
    expect([...api.values()].filter((source) => [...worker.values()].includes(source))).toEqual([]);
    // Replicas share a named volume: a worker's scratch folder is its own only off every volume.
    const scratch = (s3.services.worker.environment as Record<string, string>).STORAGE_DIR;
    expect(scratch).toBeDefined();
    for (const target of worker.keys()) expect(scratch === target || scratch.startsWith(`${target}/`)).toBe(false);
  });
});

describe('MANAGEMENT_PORT', () => {
  it('serves health, metrics and the dashboard there, and only the API on PORT', async () => {
    const redis = await startRedis();
    const [port, managementPort] = [await freePort(), await freePort()];
    const env = {
      PORT: String(port),
      MANAGEMENT_PORT: String(managementPort),
      REDIS_URL: redis.url,
      STORAGE_DIR: '/tmp/ocr-e2e-management',
    };
    const api = startProcess('api', { ...env, ADMIN_USER: 'ops', ADMIN_PASSWORD: 'a long enough password' });
    try {
      const [pub, mgmt] = [`http://127.0.0.1:${port}`, `http://127.0.0.1:${managementPort}`];
      await until('the management port', async () => (await fetch(`${mgmt}/health`)).ok);
      for (const path of ['/health', '/health/ready', '/health/live', '/metrics', '/admin/queues']) {
        const res = await fetch(`${pub}${path}`);
        expect({ path, status: res.status }).toEqual({ path, status: 404 });
      }
      expect((await fetch(`${pub}/v1/jobs/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
      expect(await (await fetch(`${pub}/v1/jobs/00000000-0000-4000-8000-000000000000`)).json()).toMatchObject({ code: 'job_not_found' });
      expect((await fetch(`${pub}/docs-json`)).status).toBe(200);

      expect((await fetch(`${mgmt}/health/live`)).status).toBe(200);
      expect(await (await fetch(`${mgmt}/metrics`)).text()).toContain('ocr_redis_up 1');
      expect((await fetch(`${mgmt}/admin/queues`)).status).toBe(401);
      expect((await fetch(`${mgmt}/v1/jobs/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
      expect(runHealthcheck('api', env)).toMatchObject({ status: 0 });
    } finally {
      await api.stop();
      await redis.stop();
    }
  });
});

describe('bind addresses', () => {
  /** Whether a TCP connection to host:port is accepted; 127.0.0.2 is loopback too, but not 127.0.0.1. */
  const accepts = (host: string, port: number) =>
    new Promise<boolean>((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? resolve(false) : reject(error)));
    });
  const ports = async () => ({ PORT: await freePort(), MANAGEMENT_PORT: await freePort(), WORKER_METRICS_PORT: await freePort() });

  async function start(hosts: Record<string, string>) {
    const redis = await startRedis();
    const p = await ports();
    const env = {
      ...Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)])),
      REDIS_URL: redis.url,
      STORAGE_DIR: '/tmp/ocr-e2e-bind',
      OCR_CONCURRENCY: '1',
      ...hosts,
    };
    const api = startProcess('api', env);
    const worker = startProcess('worker', env);
    const stop = async () => {
      await Promise.all([api.stop(), worker.stop()]);
      await redis.stop();
    };
    try {
      await until('the API to listen', async () => api.output.includes('Health, metrics and dashboard') || api.child.exitCode !== null);
      await until('the worker metrics', async () => worker.output.includes('Metrics on port') || worker.child.exitCode !== null);
      expect([api.child.exitCode, worker.child.exitCode]).toEqual([null, null]);
    } catch (error) {
      await stop();
      throw error;
    }
    return { ports: p, env, stop };
  }

  it('is loopback (127.0.0.1) for the API, management and worker metrics ports by default', async () => {
    const { ports, stop } = await start({});
    try {
      for (const port of Object.values(ports)) {
        expect({ port, '127.0.0.1': await accepts('127.0.0.1', port), '127.0.0.2': await accepts('127.0.0.2', port) }).toEqual({
          port,
          '127.0.0.1': true,
          '127.0.0.2': false,
        });
      }
    } finally {
      await stop();
    }
  });

  it('is API_HOST, MANAGEMENT_HOST and WORKER_METRICS_HOST when set, and the healthcheck follows it', async () => {
    const { ports, env, stop } = await start({ API_HOST: '0.0.0.0', MANAGEMENT_HOST: '127.0.0.2', WORKER_METRICS_HOST: '127.0.0.2' });
    try {
      const seen = async (port: number) => [await accepts('127.0.0.1', port), await accepts('127.0.0.2', port)];
      expect(await seen(ports.PORT)).toEqual([true, true]);
      expect(await seen(ports.MANAGEMENT_PORT)).toEqual([false, true]);
      expect(await seen(ports.WORKER_METRICS_PORT)).toEqual([false, true]);
      // It asks the management port where it listens: 127.0.0.2 here.
      expect(runHealthcheck('api', env)).toMatchObject({ status: 0 });
    } finally {
      await stop();
    }
  });

  it('is every interface in the images, so containers stay reachable', () => {
    const read = (file: string) => readFileSync(join(__dirname, '..', file), 'utf8');
    expect(read('Dockerfile.api')).toMatch(/^\s+API_HOST=0\.0\.0\.0\b/m);
    expect(read('Dockerfile.worker')).toMatch(/^\s+WORKER_METRICS_HOST=0\.0\.0\.0\b/m);
  });
});
