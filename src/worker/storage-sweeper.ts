import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { type DocumentsQueue, InjectDocumentsQueue } from '../contract/queues';
import { StorageService } from '../storage/storage.service';
import { CancellationService } from '../queue/cancellation.service';

const MIN_AGE_MS = 60_000;

/** Deletes the files of documents that have outlived their retention (RESULT_TTL_SECONDS unless the job set one). */
@Injectable()
export class StorageSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StorageSweeper.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    private readonly cancellations: CancellationService,
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
    // Younger files may belong to an upload whose job is being queued right now.
    for (const id of await this.storage.documentsOlderThan(MIN_AGE_MS, this.config.resultTtlSeconds * 1000)) {
      const job = await this.documents.getJob(id);
      const retentionMs = (job?.data.retention ?? this.config.resultTtlSeconds) * 1000;
      // A cancelled job's record lives as long as its finished pages may be read.
      const expired = job
        ? job.finishedOn !== undefined && job.finishedOn + retentionMs < Date.now()
        : !(await this.cancellations.isCancelled(id));
      if (expired) await this.storage.removeDocument(id);
    }
  }
}
