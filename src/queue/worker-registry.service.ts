import { Injectable } from '@nestjs/common';
import { type DocumentsQueue, InjectDocumentsQueue } from '../contract/queues';
import { type WorkerCapabilities, workerKey, workersKey } from '../contract/workers';
import { AppConfig } from '../config/config';
import { redisOf } from '../config/redis';

/**
 * The live workers and what they can read, in Redis: the workers publish, the API reads.
 * It uses the documents queue's connection, so it fails fast in the API and waits for
 * Redis in a worker, like the queue itself.
 */
@Injectable()
export class WorkerRegistry {
  constructor(
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    private readonly config: AppConfig,
  ) {}

  async publish(worker: WorkerCapabilities) {
    const ttlMs = this.config.workerTtlSeconds * 1000;
    const index = workersKey(this.config.queuePrefix);
    const client = await redisOf(this.documents);
    await client
      .multi()
      .set(workerKey(this.config.queuePrefix, worker.id), JSON.stringify(worker), 'PX', ttlMs)
      .zadd(index, Date.now() + ttlMs, worker.id)
      // Entries of workers that died without saying so.
      .zremrangebyscore(index, '-inf', Date.now())
      .exec();
  }

  async remove(id: string) {
    const client = await redisOf(this.documents);
    await client.multi().del(workerKey(this.config.queuePrefix, id)).zrem(workersKey(this.config.queuePrefix), id).exec();
  }

  async live(): Promise<WorkerCapabilities[]> {
    const client = await redisOf(this.documents);
    const ids = await client.zrangebyscore(workersKey(this.config.queuePrefix), Date.now(), '+inf');
    if (!ids.length) return [];
    const entries = await client.mget(ids.map((id) => workerKey(this.config.queuePrefix, id)));
    return entries.flatMap((entry) => (entry ? [JSON.parse(entry) as WorkerCapabilities] : []));
  }
}
