import { Injectable } from '@nestjs/common';
import { JobType, Queue } from 'bullmq';
import { Counter, Gauge, Registry } from 'prom-client';
import {
  type DocumentsQueue,
  type ImagesQueue,
  InjectDocumentsQueue,
  InjectImagesQueue,
  InjectPagesQueue,
  InjectWebhooksQueue,
  type PagesQueue,
  type WebhooksQueue,
} from '../../contract/queues';
import { withTimeout } from '../../queue/with-timeout';

const STATES: JobType[] = ['waiting', 'prioritized', 'delayed', 'active', 'waiting-children', 'paused', 'completed', 'failed'];
const READ_TIMEOUT_MS = 2000;

interface QueueSnapshot {
  counts: Record<string, number>;
  oldestWaitingMs: number | null;
  completed: number;
  failed: number;
}

/**
 * Queue metrics read from Redis when Prometheus scrapes the API, so they describe the
 * whole deployment (every worker), not one process. Completed and failed totals are
 * BullMQ's own metrics, which the workers record in Redis (see the processors' options).
 */
@Injectable()
export class QueueMetrics {
  private readonly queues: Queue[];
  private snapshot: { at: number; value: Promise<Map<string, QueueSnapshot> | null> } | null = null;

  constructor(
    registry: Registry,
    @InjectDocumentsQueue() documents: DocumentsQueue,
    @InjectPagesQueue() pages: PagesQueue,
    @InjectImagesQueue() images: ImagesQueue,
    @InjectWebhooksQueue() webhooks: WebhooksQueue,
  ) {
    // Webhooks: deliveries (and output uploads) waiting, retrying or given up; images: page images asked for.
    this.queues = [documents, pages, images, webhooks] as Queue[];
    const read = () => this.read();
    const registers = [registry];
    new Gauge({
      name: 'ocr_redis_up',
      help: 'Whether the last scrape could read the queues from Redis (1) or not (0).',
      registers,
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
    this.gauge(registers, 'ocr_jobs', 'Jobs in each queue by BullMQ state.', ['queue', 'state'], (set, name, q) => {
      for (const state of STATES) set({ queue: name, state }, q.counts[state] ?? 0);
    });
    this.gauge(
      registers,
      'ocr_queue_depth',
      'Jobs ready to run and waiting for a worker (waiting + prioritized).',
      ['queue'],
      (set, name, q) => set({ queue: name }, (q.counts.waiting ?? 0) + (q.counts.prioritized ?? 0)),
    );
    this.gauge(
      registers,
      'ocr_queue_oldest_waiting_seconds',
      'How long the oldest waiting job has waited; 0 when none waits.',
      ['queue'],
      (set, name, q) => set({ queue: name }, q.oldestWaitingMs === null ? 0 : q.oldestWaitingMs / 1000),
    );
    for (const kind of ['completed', 'failed'] as const) {
      new Counter({
        name: `ocr_jobs_${kind}_total`,
        help: `Jobs ${kind} since the queue was created, by all workers (pages: one per page).`,
        labelNames: ['queue'],
        registers,
        async collect() {
          const snapshot = await read();
          this.reset();
          for (const [name, q] of snapshot ?? []) this.inc({ queue: name }, q[kind]);
        },
      });
    }
  }

  private gauge(
    registers: Registry[],
    name: string,
    help: string,
    labelNames: string[],
    fill: (set: (labels: Record<string, string>, value: number) => void, queue: string, snapshot: QueueSnapshot) => void,
  ) {
    const read = () => this.read();
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const snapshot = await read();
        // No stale numbers while Redis is away: the series disappear and ocr_redis_up says why.
        this.reset();
        for (const [queue, q] of snapshot ?? []) fill((labels, value) => this.set(labels, value), queue, q);
      },
    });
  }

  /** One read of Redis per scrape, shared by all the metrics above. */
  private read(): Promise<Map<string, QueueSnapshot> | null> {
    if (this.snapshot && Date.now() - this.snapshot.at < 1000) return this.snapshot.value;
    const value = withTimeout(() => Promise.all(this.queues.map(async (q) => [q.name, await this.readQueue(q)] as const)), READ_TIMEOUT_MS)
      .then((entries) => new Map(entries))
      .catch(() => null);
    this.snapshot = { at: Date.now(), value };
    return value;
  }

  private async readQueue(queue: Queue): Promise<QueueSnapshot> {
    const [counts, [oldest], completed, failed] = await Promise.all([
      queue.getJobCounts(...STATES),
      // The wait list is read oldest first.
      queue.getWaiting(0, 0),
      queue.getMetrics('completed', 0, 0),
      queue.getMetrics('failed', 0, 0),
    ]);
    return {
      counts,
      oldestWaitingMs: oldest ? Math.max(0, Date.now() - oldest.timestamp) : null,
      completed: completed.meta.count,
      failed: failed.meta.count,
    };
  }
}
