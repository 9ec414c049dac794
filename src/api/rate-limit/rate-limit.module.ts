import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { normalizeIp, seconds, ThrottlerModule } from '@nestjs/throttler';
import type { Request } from 'express';
import { Redis } from 'ioredis';
import { ApiKeys } from '../auth/api-keys';
import { AuthModule } from '../auth/auth.module';
import { AppConfig } from '../../config/config';
import { failFastOptions, reconnectEvery, redisOptions } from '../../config/redis';

const RATE_LIMIT_REDIS = Symbol('RATE_LIMIT_REDIS');

/**
 * The counters' own Redis connection, failing fast like the queues' (a request never waits
 * for Redis to come back), and closed with the app, which the storage would not do for it.
 */
@Module({
  providers: [
    {
      provide: RATE_LIMIT_REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        // A count that takes longer than this is skipped (see RateLimitGuard), so that the
        // request still gets its answer, a 503 if Redis is away, within the API's 3 s.
        const redis = new Redis({
          ...redisOptions(config.redis),
          ...failFastOptions,
          commandTimeout: 500,
          retryStrategy: reconnectEvery,
        });
        // Outages are reported by the guard, once, rather than on every reconnection attempt.
        redis.on('error', () => undefined);
        return redis;
      },
    },
  ],
  exports: [RATE_LIMIT_REDIS],
})
class RateLimitRedisModule implements OnApplicationShutdown {
  constructor(@Inject(RATE_LIMIT_REDIS) private readonly redis: Redis) {}

  onApplicationShutdown() {
    this.redis.disconnect();
  }
}

/**
 * RATE_LIMIT requests per RATE_LIMIT_WINDOW_SECONDS, counted in Redis so the limit holds
 * across API replicas. Callers are told apart by API key, or by address without one.
 * The guard itself (RateLimitGuard) is bound in ApiModule, before the API key guard.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [RateLimitRedisModule, AuthModule],
      inject: [AppConfig, ApiKeys, RATE_LIMIT_REDIS],
      useFactory: (config: AppConfig, keys: ApiKeys, redis: Redis) => ({
        throttlers: [{ limit: config.rateLimit, ttl: seconds(config.rateLimitWindowSeconds) }],
        skipIf: () => config.rateLimit === 0,
        storage: new ThrottlerStorageRedisService(redis),
        getTracker: (req: Record<string, unknown>) => {
          const owner = keys.identify(req as unknown as Request);
          return owner ? `key:${owner}` : `ip:${normalizeIp((req as unknown as Request).ip ?? '')}`;
        },
        // One budget per caller across all routes (the default keys it by route too).
        generateKey: (_context, tracker, name) => `${config.queuePrefix}:ratelimit:${name}:${tracker}`,
      }),
    }),
  ],
})
export class RateLimitModule {}
