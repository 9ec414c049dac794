import { Redis } from 'ioredis';
import { digitalPdf } from './fixtures';
import { startRedis, startStack, upload, waitForJob } from './harness';

describe('the test harness on a shared Redis', () => {
  it("removes its own queue prefix's keys when it stops, and nobody else's", async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url);
    try {
      await client.set('someone-else:key', 'kept');
      const stack = await startStack({ redisUrl: redis.url });
      const prefix = stack.env.QUEUE_PREFIX;
      try {
        expect((await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, await digitalPdf())).body.id)).status).toBe('completed');
        expect((await client.keys(`${prefix}:*`)).length).toBeGreaterThan(0);
      } finally {
        await stack.stop();
      }
      expect(await client.keys(`${prefix}:*`)).toEqual([]);
      expect(await client.get('someone-else:key')).toBe('kept');
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });
});
