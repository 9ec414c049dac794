import { Test, type TestingModule } from '@nestjs/testing';
import { Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { connectionOf, removeQueueData, startRedis, type TestRedis, until } from '../../../test/harness';
import { AppConfig, loadConfig } from '../../config/config';
import { ConfigModule } from '../../config/config.module';
import { DOCUMENTS_QUEUE } from '../../contract/queues';
import type { PageResult } from '../../contract/results';
import { LoggingModule } from '../../logging/logging.module';
import { JobEvents } from '../../queue/job-events.service';
import { QueueModule } from '../../queue/queue.module';
import { StorageService } from '../../storage/storage.service';
import { ApiError } from '../errors/api-error';
import { JobLifecycle } from './job-lifecycle.service';
import { JobReader } from './job-reader.service';
import { JobStore } from './job-store';
import { JobSubmission, type RequestOptions } from './job-submission.service';
import { JobsModule } from './jobs.module';

/**
 * The services behind /v1/jobs, in-process against a real Redis (a unique queue prefix,
 * removed afterwards) and real storage; BullMQ workers of the spec's own finish the jobs.
 */
describe('job submission, reading and lifecycle', () => {
  let redis: TestRedis;
  let prefix: string;
  let dir: string;
  let app: TestingModule;
  let submission: JobSubmission;
  let reader: JobReader;
  let lifecycle: JobLifecycle;
  let store: JobStore;
  let storage: StorageService;
  let pdf: Uint8Array;

  beforeAll(async () => {
    redis = await startRedis();
    prefix = `spec-${randomUUID().slice(0, 8)}`;
    dir = mkdtempSync(join(tmpdir(), 'ocr-jobs-spec-'));
    const config = loadConfig({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      STORAGE_DIR: join(dir, 'storage'),
      RESULT_TTL_SECONDS: '3600',
      MAX_RETENTION_SECONDS: '86400',
      MAX_PAGES_IN_FLIGHT_PER_KEY: '2',
    });
    app = await Test.createTestingModule({ imports: [ConfigModule, LoggingModule, QueueModule.register('producer'), JobsModule] })
      .overrideProvider(AppConfig)
      .useValue(config)
      .compile();
    await app.init();
    [submission, reader, lifecycle, store, storage] = [JobSubmission, JobReader, JobLifecycle, JobStore, StorageService].map((t) =>
      app.get(t as never),
    ) as [JobSubmission, JobReader, JobLifecycle, JobStore, StorageService];
    const doc = await PDFDocument.create();
    doc.addPage([200, 200]);
    pdf = await doc.save();
  });

  afterAll(async () => {
    await app?.close();
    await removeQueueData(redis.url, prefix);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An upload as multer leaves it: a file in the incoming folder. */
  function uploaded(bytes: Uint8Array = pdf): Express.Multer.File {
    const path = join(storage.incomingDir, randomUUID());
    writeFileSync(path, bytes);
    return { path, size: bytes.length, originalname: 'scan.pdf', mimetype: 'application/pdf' } as Express.Multer.File;
  }

  const submit = (values: RequestOptions['values'], owner: string | null = null, key?: string, file = uploaded()) =>
    submission.create({ file }, { values, from: 'form' }, owner, key);

  async function refusal(work: Promise<unknown>) {
    const error = await work.then(
      () => null,
      (e: unknown) => e,
    );
    if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
    return { status: error.getStatus(), code: error.code };
  }

  /** Finishes every waiting document job as BullMQ would once its pages are done. */
  async function finishAll(ids: string[]) {
    const worker = new Worker(DOCUMENTS_QUEUE, async () => ({ pageCount: 1 }), { connection: connectionOf(redis.url), prefix });
    try {
      await until('jobs completed', async () => (await Promise.all(ids.map((id) => store.state(id)))).every((s) => s === 'completed'));
    } finally {
      await worker.close();
    }
  }

  it('queues a job with its options parsed once, in the types the worker uses', async () => {
    const { view, replayed } = await submit({ retention: '120', pages: '1', ocr: 'never', languages: 'eng+eng' });
    expect(replayed).toBe(false);
    expect(view).toMatchObject({ status: 'queued', retention: 120 });
    const job = await store.get(view.id, null);
    expect(job.data).toMatchObject({ languages: ['eng'], pages: [[1, 1]], ocr: 'never', retention: 120, callbackUrl: null });
    expect(await storage.exists(job.data.uploadKey)).toBe(true);
  });

  it('refuses a repeated option with 400 invalid_option and keeps nothing of the upload', async () => {
    const file = uploaded();
    expect(await refusal(submit({ ocr: ['never', 'always'] }, null, undefined, file))).toEqual({ status: 400, code: 'invalid_option' });
    expect(existsSync(file.path)).toBe(false);
  });

  it('answers another key, and a job past its own retention, as a job that does not exist', async () => {
    const mine = (await submit({ retention: '1' }, 'key-a')).view.id;
    expect(await refusal(reader.find(mine, 'key-b'))).toEqual({ status: 404, code: 'job_not_found' });
    await finishAll([mine]);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await refusal(reader.find(mine, 'key-a'))).toEqual({ status: 404, code: 'job_not_found' });
    expect(await store.state(mine)).toBe('unknown');
  });

  it("keeps every job until its own retention, whatever other jobs' retentions are", async () => {
    const long = (await submit({}, 'key-a')).view.id;
    await finishAll([long]);
    // BullMQ would apply a finishing job's age to the whole completed set.
    await new Promise((r) => setTimeout(r, 1500));
    const short = (await submit({ retention: '1' }, 'key-b')).view.id;
    await finishAll([short]);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await reader.find(long, 'key-a')).status).toBe('completed');
    expect(await refusal(reader.find(short, 'key-b'))).toEqual({ status: 404, code: 'job_not_found' });
  });

  it('replays a repeated Idempotency-Key with the same file, and refuses it with another', async () => {
    const first = await submit({}, 'key-c', 'order-1');
    const again = await submit({}, 'key-c', 'order-1');
    expect(again).toMatchObject({ replayed: true, view: { id: first.view.id } });
    const other = await PDFDocument.create();
    other.addPage([300, 300]);
    expect(await refusal(submit({}, 'key-c', 'order-1', uploaded(await other.save())))).toEqual({
      status: 422,
      code: 'idempotency_key_reused',
    });
    // Keys are per API key.
    expect((await submit({}, 'key-d', 'order-1')).replayed).toBe(false);
  });

  it('refuses uploads past the pages a key may have in flight', async () => {
    await submit({}, 'key-e');
    await submit({}, 'key-e');
    expect(await refusal(submit({}, 'key-e'))).toEqual({ status: 429, code: 'quota_exceeded' });
    expect(await store.pagesInFlight('key-e')).toBe(2);
  });

  it('polls a running job from Redis: its finished pages without reading storage', async () => {
    const { id } = (await submit({}, 'key-h')).view;
    const job = await store.get(id, 'key-h');
    await job.updateData({ ...job.data, pagesTotal: 3 });
    const page: PageResult = {
      page: 2,
      source: 'ocr',
      text: 'the second page',
      confidence: 91,
      width: 200,
      height: 200,
      rotation: 0,
      rotationMethod: 'confident-read',
      readMethod: 'otsu',
      noiseFilter: null,
      dpi: 300,
      language: 'eng',
      lines: [],
    };
    await app.get(JobEvents).pageDone(id, page);
    const read = jest.spyOn(storage, 'finishedPages');
    try {
      const view = await reader.find(id, 'key-h');
      expect(view.progress).toMatchObject({ pagesTotal: 3, pagesDone: 1 });
      expect(view.result).toMatchObject({ partial: true, text: 'the second page', pages: [{ page: 2, text: 'the second page' }] });
      expect(view.result?.pages[0]).not.toHaveProperty('lines');
      expect(read).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
    }
  });

  it('cancels a queued job once, and deletes its files', async () => {
    const { id } = (await submit({}, 'key-f')).view;
    const cancelled = await lifecycle.cancel(id, 'key-f');
    expect(cancelled.status).toBe('cancelled');
    expect((await lifecycle.cancel(id, 'key-f')).status).toBe('cancelled');
    expect(await refusal(lifecycle.cancel(id, 'key-g'))).toEqual({ status: 404, code: 'job_not_found' });
    const job = await store.cancelled(id, 'key-f');
    expect(job?.retention).toBe(3600);
    await lifecycle.remove(id, 'key-f');
    expect(await storage.exists(storage.uploadKey(id))).toBe(false);
    expect((await store.cancelled(id, null))?.purged).toBe(true);
  });
});
