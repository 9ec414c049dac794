import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Response } from 'express';
import { DOCUMENTS_QUEUE } from '../queue/queue.contract';

const PING_TIMEOUT_MS = 1000;

@Controller('health')
export class HealthController {
  constructor(@InjectQueue(DOCUMENTS_QUEUE) private readonly documents: Queue) {}

  @Get()
  async check(@Res({ passthrough: true }) res: Response) {
    const redis = (await this.pingRedis()) ? 'up' : 'down';
    if (redis === 'down') res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status: redis === 'up' ? 'ok' : 'error', redis };
  }

  private async pingRedis(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((ok) => (timer = setTimeout(() => ok(false), PING_TIMEOUT_MS)));
    const ping = (async () => (await ((await this.documents.client) as unknown as Redis).ping()) === 'PONG')().catch(() => false);
    try {
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
