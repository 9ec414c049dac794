import type { RedisOptions } from 'ioredis';
import type { RedisSettings } from './config';

/**
 * ioredis options (BullMQ takes options, not URLs): host, port, credentials, database and
 * TLS from REDIS_URL, the password from REDIS_PASSWORD_FILE when given, and with Sentinels
 * the master they name instead of the URL's host (ioredis follows a failover by itself).
 */
export function redisOptions({ url, password, sentinels, sentinelName, sentinelPassword }: RedisSettings): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  const tls = u.protocol === 'rediss:' ? {} : undefined;
  const common: RedisOptions = {
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: password ?? (u.password ? decodeURIComponent(u.password) : undefined),
    db: Number.isInteger(db) ? db : 0,
    tls,
  };
  if (!sentinels) return { host: u.hostname, port: u.port ? Number(u.port) : 6379, ...common };
  return { ...common, sentinels, name: sentinelName, sentinelPassword, enableTLSForSentinelMode: tls !== undefined };
}

/**
 * For connections that serve HTTP requests: refuse commands while Redis is down instead of
 * queueing them, and give up on a command Redis does not answer (a paused or unreachable
 * host keeps the connection open but says nothing).
 */
export const failFastOptions: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  commandTimeout: 2500,
};

export const reconnectEvery = (attempt: number) => Math.min(attempt * 500, 5000);
