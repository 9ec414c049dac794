import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { failFastOptions, reconnectEvery, redisOptions } from '../config/redis';
import { CancellationService } from './cancellation.service';
import { WorkerRegistry } from './worker-registry.service';
import { JobEvents } from './job-events.service';
import { QueueRedis } from './queue-redis';
import {
  DOCUMENTS_QUEUE,
  documentJobOptions,
  IMAGES_QUEUE,
  imageJobOptions,
  PAGES_QUEUE,
  pageJobOptions,
  WEBHOOKS_QUEUE,
  webhookJobOptions,
} from '../contract/queues';

/**
 * The queues, on the Redis from REDIS_URL. The API is a producer and must fail fast
 * (answer 503 rather than hang while Redis is down); the worker waits for Redis forever.
 */
@Module({})
export class QueueModule {
  static register(mode: 'producer' | 'consumer'): DynamicModule {
    const root = BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        prefix: config.queuePrefix,
        connection: {
          ...redisOptions(config.redis),
          ...(mode === 'producer' ? failFastOptions : {}),
          retryStrategy: reconnectEvery,
        },
      }),
    });
    const queues = BullModule.registerQueueAsync(
      {
        name: DOCUMENTS_QUEUE,
        inject: [AppConfig],
        useFactory: (config: AppConfig) => ({ defaultJobOptions: documentJobOptions(config.jobAttempts, config.maxRetentionSeconds) }),
      },
      {
        name: PAGES_QUEUE,
        inject: [AppConfig],
        useFactory: (config: AppConfig) => ({ defaultJobOptions: pageJobOptions(config.jobAttempts, config.resultTtlSeconds) }),
      },
      { name: IMAGES_QUEUE, useFactory: () => ({ defaultJobOptions: imageJobOptions }) },
      {
        name: WEBHOOKS_QUEUE,
        inject: [AppConfig],
        useFactory: (config: AppConfig) => ({
          defaultJobOptions: webhookJobOptions(config.webhooks.attempts, config.webhooks.backoffMs),
        }),
      },
    );
    return {
      module: QueueModule,
      global: true,
      imports: [root, queues],
      providers: [QueueRedis, CancellationService, WorkerRegistry, JobEvents],
      exports: [queues, QueueRedis, CancellationService, WorkerRegistry, JobEvents],
    };
  }
}
