import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../../config/config';
import { reconnectEvery, redisOptions } from '../../config/redis';
import { QueueRedis } from '../../queue/queue-redis';

export interface Wakeup {
  /** Resolves when an event for the job is published, or after the timeout. */
  readonly promise: Promise<void>;
  cancel(): void;
}

/**
 * One pub/sub connection per API process wakes the SSE streams and long polls of a job when
 * any process (another replica, a worker) adds an event to it. They then read the job's
 * stream in Redis, so nothing depends on which replica a client reached.
 */
@Injectable()
export class JobWatcher implements OnModuleDestroy {
  private subscriber: Redis | null = null;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listeners: ((documentId: string) => void)[] = [];
  /** Set at shutdown (before the HTTP server closes): open streams and long polls end then. */
  stopping = false;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: QueueRedis,
  ) {}

  /** Call before reading the stream, so that an event added in between still wakes the reader. */
  next(documentId: string, timeoutMs: number): Wakeup {
    if (this.stopping) return { promise: Promise.resolve(), cancel: () => undefined };
    this.connect();
    let done!: () => void;
    let timer: NodeJS.Timeout;
    const promise = new Promise<void>((resolve) => {
      done = () => {
        clearTimeout(timer);
        const set = this.waiters.get(documentId);
        set?.delete(done);
        if (set?.size === 0) this.waiters.delete(documentId);
        resolve();
      };
      timer = setTimeout(done, timeoutMs);
    });
    const set = this.waiters.get(documentId) ?? new Set();
    set.add(done);
    this.waiters.set(documentId, set);
    return { promise, cancel: done };
  }

  /** Calls `listener` with the id of every job that changes, before its waiters wake. */
  onChange(listener: (documentId: string) => void) {
    this.listeners.push(listener);
    this.connect();
  }

  onModuleDestroy() {
    this.stopping = true;
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
    this.subscriber?.disconnect();
  }

  private connect() {
    // Not after shutdown began: a new connection would keep the process alive.
    if (this.subscriber || this.stopping) return;
    this.subscriber = new Redis({ ...redisOptions(this.config.redis), retryStrategy: reconnectEvery, maxRetriesPerRequest: null });
    // Readers also look every few seconds, so a notice lost while reconnecting only delays them.
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, documentId: string) => {
      for (const listener of this.listeners) listener(documentId);
      for (const wake of [...(this.waiters.get(documentId) ?? [])]) wake();
    });
    void this.subscriber.subscribe(this.redis.keys.eventsChannel()).catch(() => undefined);
  }
}
