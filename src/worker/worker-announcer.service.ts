import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { WorkerCapabilities } from '../contract/workers';
import { AppConfig } from '../config/config';
import { WorkerRegistry } from '../queue/worker-registry.service';
import { LanguageCatalog } from './ocr/language-catalog';
import { findOsdModel } from './ocr/tessdata';

const FIRST_ANNOUNCE_WAIT_MS = 2000;

/**
 * Tells the API what this worker can read: published at start-up, refreshed three times per
 * WORKER_TTL_SECONDS, removed at shutdown. A worker that dies without removing it drops out
 * when the entry expires. While Redis is away the worker keeps trying on every refresh.
 */
@Injectable()
export class WorkerAnnouncer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WorkerAnnouncer.name);
  private readonly capabilities: WorkerCapabilities;
  private readonly refreshMs: number;
  private timer?: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly registry: WorkerRegistry,
    config: AppConfig,
    catalog: LanguageCatalog,
  ) {
    const models = [...catalog.models.values()].sort((a, b) => a.code.localeCompare(b.code));
    this.capabilities = {
      id: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
      hostname: hostname(),
      languages: models.map((m) => m.code),
      models: Object.fromEntries(models.map((m) => [m.code, m.origin === 'system' ? 'fast' : 'best_int'])),
      osd: config.ocrDetectOrientation && findOsdModel(config.ocrModelDir) !== null,
      concurrency: config.ocrConcurrency,
      startedAt: new Date().toISOString(),
    };
    this.refreshMs = (config.workerTtlSeconds * 1000) / 3;
  }

  /** The first announcement is awaited (briefly: Redis may be down) so that a started worker is a known one. */
  async onApplicationBootstrap() {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.announce(), new Promise((resolve) => (timer = setTimeout(resolve, FIRST_ANNOUNCE_WAIT_MS)))]);
    clearTimeout(timer);
    this.timer = setInterval(() => void this.announce(), this.refreshMs);
    this.timer.unref();
  }

  /** Before the queues close: the API stops counting on this worker at once. */
  async onModuleDestroy() {
    clearInterval(this.timer);
    await this.registry.remove(this.capabilities.id).catch(() => undefined);
  }

  private async announce() {
    try {
      await this.registry.publish(this.capabilities);
      if (this.failing) this.logger.log('Announcing this worker to the API again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`Cannot announce this worker's languages: ${(error as Error).message}`);
      this.failing = true;
    }
  }
}
