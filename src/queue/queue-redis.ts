import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config/config';
import { type DocumentsQueue, InjectDocumentsQueue } from '../contract/queues';

/**
 * The names of the service's own records beside BullMQ's, all under `${QUEUE_PREFIX}:ocr:`.
 * They are stored data: running deployments hold records under them, so a name never changes.
 */
export class OcrKeys {
  constructor(private readonly prefix: string) {}

  /** A job's event stream. */
  events(documentId: string) {
    return `${this.prefix}:ocr:events:${documentId}`;
  }

  /** The pub/sub channel that carries the id of a job whose stream grew. */
  eventsChannel() {
    return `${this.prefix}:ocr:events`;
  }

  webhook(documentId: string) {
    return `${this.prefix}:ocr:webhook:${documentId}`;
  }

  output(documentId: string) {
    return `${this.prefix}:ocr:output:${documentId}`;
  }

  cancelled(documentId: string) {
    return `${this.prefix}:ocr:cancelled:${documentId}`;
  }

  /** A sorted set of worker ids scored by when their entries expire (ms since the epoch). */
  workers() {
    return `${this.prefix}:ocr:workers`;
  }

  worker(id: string) {
    return `${this.prefix}:ocr:worker:${id}`;
  }

  inFlight(owner: string) {
    return `${this.prefix}:ocr:inflight:${owner}`;
  }

  idempotency(owner: string | null, key: string) {
    // Hashed: keys are the client's text, and a key digest already scopes them per API key.
    return `${this.prefix}:ocr:idempotency:${owner ?? 'open'}:${createHash('sha256').update(key).digest('hex')}`;
  }

  /** A running job's finished pages, by page number: what a poll shows without reading storage. */
  pages(documentId: string) {
    return `${this.prefix}:ocr:pages:${documentId}`;
  }

  /** The records that go with a document when it expires (its cancellation record keeps its own TTL). */
  ofDocument(documentId: string) {
    return [this.events(documentId), this.webhook(documentId), this.output(documentId), this.pages(documentId)];
  }
}

/**
 * The Redis client of the service's own records, and their key names. It is the documents
 * queue's connection, so it fails fast in the API and waits for Redis in a worker, like the
 * queue itself.
 */
@Injectable()
export class QueueRedis {
  readonly keys: OcrKeys;
  private made?: Redis;

  constructor(
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    config: AppConfig,
  ) {
    this.keys = new OcrKeys(config.queuePrefix);
  }

  client(): Promise<Redis> {
    return redisOf(this.documents).then((client) => (this.made = client));
  }

  /** Whether the connection is up now, without waiting: false while it is still being made or Redis never answered. */
  connected(): boolean {
    if (!this.made) void this.client().catch(() => undefined);
    return this.made?.status === 'ready';
  }

  /** Redis' answer to PING on a queue's or worker's own connection; by default, this one. */
  async ping(holder: { client: Promise<unknown> } = this.documents): Promise<string> {
    return (await redisOf(holder)).ping();
  }
}

/** BullMQ types its connection with an interface of its own; it is the ioredis client this service made. */
async function redisOf(holder: { client: Promise<unknown> }): Promise<Redis> {
  return (await holder.client) as Redis;
}
