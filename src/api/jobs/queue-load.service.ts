import { Injectable } from '@nestjs/common';
import { type DocumentsQueue, InjectDocumentsQueue, InjectPagesQueue, type PagesQueue } from '../../contract/queues';
import { QueueRedis } from '../../queue/queue-redis';
import { WorkerRegistry } from '../../queue/worker-registry.service';
import { SharedViews } from './shared-views';

export interface Load {
  /** Pages queued or being read, counting a document not yet opened as one page. */
  pagesAhead: number;
  /** Pages per minute over the last minutes, from BullMQ's metrics; or assumed, see `measured`. */
  pagesPerMinute: number;
  measured: boolean;
}

// What one worker slot reads without a measurement to go by: a scanned page in about 3 s.
const ASSUMED_PAGES_PER_MINUTE_PER_SLOT = 20;
const METRIC_MINUTES = 5;

const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, Math.ceil(n)));

/** How busy the queue is: what Retry-After, queuePosition, estimatedDoneAt and back-pressure rest on. */
@Injectable()
export class QueueLoad {
  constructor(
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    @InjectPagesQueue() private readonly pages: PagesQueue,
    private readonly registry: WorkerRegistry,
    private readonly redis: QueueRedis,
  ) {}

  private readonly shared = new SharedViews<Load>();

  /**
   * The load as read at most a second ago, for polls: two hundred clients polling once a
   * second share one reading instead of making two hundred. A failed reading is not kept.
   */
  recent(): Promise<Load> {
    return this.shared.get(
      'load',
      () => this.load(),
      () => true,
    );
  }

  async load(): Promise<Load> {
    const [pages, documents, metrics] = await Promise.all([
      this.pages.getJobCounts('waiting', 'prioritized', 'delayed', 'active'),
      this.documents.getJobCounts('waiting'),
      this.pages.getMetrics('completed', 0, METRIC_MINUTES - 1),
    ]);
    const pagesAhead = Object.values(pages).reduce((a, b) => a + b, 0) + (documents.waiting ?? 0);
    // Data points are whole minutes, newest first; the minute under way is not among them.
    const recent = metrics.data.slice(0, METRIC_MINUTES);
    const measuredRate = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : 0;
    if (measuredRate > 0) return { pagesAhead, pagesPerMinute: measuredRate, measured: true };
    const slots = (await this.registry.live()).reduce((sum, w) => sum + w.concurrency, 0);
    return { pagesAhead, pagesPerMinute: Math.max(1, slots) * ASSUMED_PAGES_PER_MINUTE_PER_SLOT, measured: false };
  }

  /** 1 for the next document the workers will open; null if it is not waiting. */
  async queuePosition(documentId: string): Promise<number | null> {
    const client = await this.redis.client();
    const key = this.documents.keys.wait;
    const [index, length] = await Promise.all([client.lpos(key, documentId), client.llen(key)]);
    // BullMQ pushes new jobs on the left and workers take them from the right.
    return index === null ? null : length - index;
  }

  /** Seconds until `pages` more pages are done behind `ahead` others. */
  static secondsFor(load: Load, pages: number) {
    return (pages * 60) / load.pagesPerMinute;
  }

  /** Poll about four times before a queued job is expected to start, and about once a page while it runs. */
  static retryAfter(load: Load, queued: boolean) {
    return queued ? clamp(QueueLoad.secondsFor(load, load.pagesAhead) / 4, 1, 30) : clamp(QueueLoad.secondsFor(load, 1), 1, 30);
  }

  /** For a refused upload: when about a tenth of what is queued will have been done. */
  static retryAfterFull(load: Load) {
    return clamp(QueueLoad.secondsFor(load, load.pagesAhead / 10), 1, 300);
  }
}
