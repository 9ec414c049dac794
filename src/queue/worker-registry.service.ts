import { Injectable } from '@nestjs/common';
import type { WorkerCapabilities } from '../contract/workers';
import { AppConfig } from '../config/config';
import { QueueRedis } from './queue-redis';

/** The live workers and what they can read, in Redis: the workers publish, the API reads. */
@Injectable()
export class WorkerRegistry {
  constructor(
    private readonly redis: QueueRedis,
    private readonly config: AppConfig,
  ) {}

  async publish(worker: WorkerCapabilities) {
    const ttlMs = this.config.workerTtlSeconds * 1000;
    const { keys } = this.redis;
    const index = keys.workers();
    const client = await this.redis.client();
    await client
      .multi()
      .set(keys.worker(worker.id), JSON.stringify(worker), 'PX', ttlMs)
      .zadd(index, Date.now() + ttlMs, worker.id)
      // Entries of workers that died without saying so.
      .zremrangebyscore(index, '-inf', Date.now())
      .exec();
  }

  async remove(id: string) {
    const { keys } = this.redis;
    const client = await this.redis.client();
    await client.multi().del(keys.worker(id)).zrem(keys.workers(), id).exec();
  }

  async live(): Promise<WorkerCapabilities[]> {
    const { keys } = this.redis;
    const client = await this.redis.client();
    const ids = await client.zrangebyscore(keys.workers(), Date.now(), '+inf');
    if (!ids.length) return [];
    const entries = await client.mget(ids.map((id) => keys.worker(id)));
    return entries.flatMap((entry) => (entry ? [JSON.parse(entry) as WorkerCapabilities] : []));
  }
}
