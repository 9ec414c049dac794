import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { type DocumentsQueue, InjectDocumentsQueue } from '../contract/queues';
import { StorageService } from '../storage/storage.service';

/** Deletes the files of documents whose results have outlived RESULT_TTL_SECONDS. */
@Injectable()
export class StorageSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StorageSweeper.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
  ) {}

  onApplicationBootstrap() {
    const every = Math.min(this.config.resultTtlSeconds * 250, 10 * 60 * 1000);
    this.timer = setInterval(() => void this.sweep().catch((e) => this.logger.warn(`Sweep failed: ${e}`)), every);
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  async sweep() {
    const ttlMs = this.config.resultTtlSeconds * 1000;
    for (const id of await this.storage.documentsOlderThan(ttlMs)) {
      const job = await this.documents.getJob(id);
      const expired = !job || (job.finishedOn !== undefined && job.finishedOn + ttlMs < Date.now());
      if (expired) await this.storage.removeDocument(id);
    }
  }
}
