import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { FINAL_STATUSES, type JobEvent } from '../contract/events';
import { retentionOf } from '../contract/job-options';
import type { PageResult, PageSummary } from '../contract/results';
import { QueueRedis } from './queue-redis';

export interface StoredEvent {
  /** The stream entry id: what SSE sends as `id` and clients send back as Last-Event-ID. */
  id: string;
  event: JobEvent;
}

// A running job's stream outlives a short retention: it is cut to the retention at the end.
const RUNNING_TTL_SECONDS = 24 * 60 * 60;
const MAX_EVENTS = 2000;

/**
 * Each job's events, in a Redis stream of its own, with a notice on one pub/sub channel when
 * one is added. Written by the API (queued, cancelled) and the workers (everything else).
 * Beside them, while a job runs, the summaries of its finished pages: a poll of a running job
 * reads one Redis hash, never the page files in storage.
 */
@Injectable()
export class JobEvents {
  constructor(
    private readonly redis: QueueRedis,
    private readonly config: AppConfig,
  ) {}

  async emit(documentId: string, event: JobEvent, retentionSeconds?: number) {
    const key = this.redis.keys.events(documentId);
    const final = event.type === 'status' && FINAL_STATUSES.includes(event.status);
    const ttl = final ? retentionOf({ retention: retentionSeconds }, this.config) : RUNNING_TTL_SECONDS;
    const client = await this.redis.client();
    await client
      .multi()
      .xadd(key, 'MAXLEN', '~', MAX_EVENTS, '*', 'e', JSON.stringify(event))
      .expire(key, ttl)
      .publish(this.redis.keys.eventsChannel(), documentId)
      .exec();
  }

  /** A page finished: its summary (the page without its word lines) and its event, in one step. */
  async pageDone(documentId: string, result: PageResult) {
    const { lines: _lines, ...summary } = result;
    const pages = this.redis.keys.pages(documentId);
    const events = this.redis.keys.events(documentId);
    const event: JobEvent = { type: 'page', page: result.page, source: result.source };
    const client = await this.redis.client();
    await client
      .multi()
      .hset(pages, { [String(result.page)]: JSON.stringify(summary) })
      .expire(pages, RUNNING_TTL_SECONDS)
      .xadd(events, 'MAXLEN', '~', MAX_EVENTS, '*', 'e', JSON.stringify(event))
      .expire(events, RUNNING_TTL_SECONDS)
      .publish(this.redis.keys.eventsChannel(), documentId)
      .exec();
  }

  /** The finished pages' summaries of a running (or failed) job, in page order. */
  async finishedPages(documentId: string): Promise<PageSummary[]> {
    const stored = await (await this.redis.client()).hgetall(this.redis.keys.pages(documentId));
    return Object.values(stored)
      .map((json) => JSON.parse(json) as PageSummary)
      .sort((a, b) => a.page - b.page);
  }

  /** How many pages finished pages() holds: one O(1) read, to tell whether a poll's copy of them is still whole. */
  async finishedCount(documentId: string): Promise<number> {
    return (await this.redis.client()).hlen(this.redis.keys.pages(documentId));
  }

  /** Once a document's result is stored, its pages are read from there. */
  async forgetPages(documentId: string) {
    await (await this.redis.client()).del(this.redis.keys.pages(documentId));
  }

  /** Events after `after` (a stream id; '0' for all), oldest first. */
  async read(documentId: string, after = '0'): Promise<StoredEvent[]> {
    const start = after === '0' ? '-' : `(${after}`;
    const client = await this.redis.client();
    const entries = await client.xrange(this.redis.keys.events(documentId), start, '+', 'COUNT', MAX_EVENTS);
    return entries.map(([id, fields]) => ({ id, event: JSON.parse(fields[1]) as JobEvent }));
  }

  /** The id of the latest event, or '0' when there is none. */
  async lastId(documentId: string): Promise<string> {
    const client = await this.redis.client();
    const [last] = await client.xrevrange(this.redis.keys.events(documentId), '+', '-', 'COUNT', 1);
    return last?.[0] ?? '0';
  }
}
