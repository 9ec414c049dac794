import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scannedPdf, SCANNED_LINES } from './fixtures';
import { freePort, JobBody, Proc, Stack, startStack, until, upload } from './harness';

const MASTER_NAME = 'ocr-e2e';

/**
 * A redis-server of our own, as master or as the replica of one, in `dir`: a full resync
 * writes an RDB file even with saving off, which would otherwise land in the working folder.
 */
async function redisServer(dir: string, port: number, replicaOf?: number): Promise<Proc> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  args.push('--dbfilename', `dump-${port}.rdb`);
  if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
  const proc = new Proc(spawn('redis-server', args, { stdio: 'pipe' }));
  await until(`redis-server on ${port}`, async () => proc.output.includes('Ready to accept connections'), 10_000);
  return proc;
}

describe('Redis Sentinel: a failover during a job', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocr-e2e-sentinel-'));
  const procs: Proc[] = [];
  let master: Proc;
  let masterPort: number;
  let replicaPort: number;
  let sentinel: Redis;
  let stack: Stack;

  beforeAll(async () => {
    masterPort = await freePort();
    replicaPort = await freePort();
    const sentinelPort = await freePort();
    master = await redisServer(dir, masterPort);
    procs.push(master, await redisServer(dir, replicaPort, masterPort));
    // Debian's redis-sentinel (the redis-sentinel package); a quorum of one is enough to fail over here.
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        '',
      ].join('\n'),
    );
    const sentinelProc = new Proc(spawn('redis-sentinel', [conf], { stdio: 'pipe' }));
    procs.push(sentinelProc);
    sentinel = new Redis({ port: sentinelPort, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    await until(
      'the sentinel to see the replica in sync',
      async () => {
        const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as string[][];
        return replicas.some((fields) => fields.join(' ').includes('master-link-status ok'));
      },
      30_000,
      200,
    );
    // REDIS_URL's host is ignored with Sentinels; the harness cleans up on the replica, the master-to-be.
    stack = await startStack({
      redisUrl: `redis://127.0.0.1:${replicaPort}`,
      env: { REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: MASTER_NAME },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    sentinel?.disconnect();
    await Promise.all(procs.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes a job whose master dies halfway through', async () => {
    const { res, body } = await upload(stack.baseUrl, await scannedPdf(6));
    expect(res.status).toBe(202);
    const poll = async () => {
      const answer = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`);
      // While the Sentinels elect a new master, the API answers 503 queue_unavailable.
      return answer.status === 200 ? ((await answer.json()) as JobBody) : null;
    };
    await until('a page to finish', async () => ((await poll())?.progress.pagesDone ?? 0) >= 1, 60_000, 100);

    await master.stop('SIGKILL');
    await until(
      'the sentinel to promote the replica',
      async () => ((await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[])[1] === String(replicaPort),
      30_000,
      200,
    );
    const job = await until(
      'the job to finish after the failover',
      async () => {
        const view = await poll();
        return view && ['completed', 'failed'].includes(view.status) && view;
      },
      120_000,
      250,
    );
    expect(job.status).toBe('completed');
    expect(job.result!.pages.map((p) => p.page)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const page of job.result!.pages) expect(page.text.split(/\s+/)).toEqual(SCANNED_LINES.join(' ').split(/\s+/));
  });
});
