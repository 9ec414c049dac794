import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { rm, writeFile } from 'node:fs/promises';
import { AppConfig } from '../config/config';
import { HEARTBEAT_INTERVAL_MS } from '../contract/heartbeat';
import { QueueRedis } from '../queue/queue-redis';
import { DocumentProcessor } from './document.processor';
import { PageProcessor } from './page.processor';

const PING_TIMEOUT_MS = 5000;

/**
 * Refreshes HEARTBEAT_FILE while this worker can take jobs: both BullMQ workers run and
 * Redis answers on their connection. Being written from the main event loop, the beat
 * also stops when that loop is blocked, which is what starves BullMQ's lock renewal.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HeartbeatService.name);
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private healthy: boolean | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly documents: DocumentProcessor,
    private readonly pages: PageProcessor,
    private readonly redis: QueueRedis,
  ) {}

  onApplicationBootstrap() {
    if (!this.config.heartbeatFile) return;
    void this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  /** A worker that is shutting down takes no new jobs, so it stops reporting healthy at once. */
  async onModuleDestroy() {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.config.heartbeatFile) await rm(this.config.heartbeatFile, { force: true });
  }

  private async beat() {
    const problem = await this.problem();
    if (this.stopped) return;
    if (problem === null) {
      await writeFile(this.config.heartbeatFile!, `${new Date().toISOString()} pid ${process.pid}\n`).catch((e) =>
        this.logger.warn(`Cannot write the heartbeat: ${e}`),
      );
    }
    if (this.healthy !== (problem === null)) {
      if (problem === null) this.logger.log(`Heartbeat every ${HEARTBEAT_INTERVAL_MS / 1000} s to ${this.config.heartbeatFile}`);
      else this.logger.warn(`Heartbeat paused: ${problem}`);
      this.healthy = problem === null;
    }
  }

  private async problem(): Promise<string | null> {
    const workers = [this.documents.worker, this.pages.worker];
    if (!workers.every((w) => w.isRunning())) return 'a queue worker is not running';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>(
      (ok) => (timer = setTimeout(() => ok(`Redis did not answer within ${PING_TIMEOUT_MS} ms`), PING_TIMEOUT_MS)),
    );
    const ping = Promise.all(workers.map((w) => this.redis.ping(w))).then(
      () => null,
      (e: Error) => `Redis: ${e.message}`,
    );
    try {
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
