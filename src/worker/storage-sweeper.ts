import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { type DocumentsQueue, InjectDocumentsQueue } from '../contract/queues';
import { StorageService } from '../storage/storage.service';
import { CancellationService } from '../queue/cancellation.service';
import { DocumentExpiry } from '../queue/document-expiry.service';

const MIN_AGE_MS = 60_000;

/** Ends documents that have outlived their own retention (see DocumentExpiry), and files no job owns. */
@Injectable()
export class StorageSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StorageSweeper.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    private readonly cancellations: CancellationService,
    private readonly expiry: DocumentExpiry,
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
      if (job) {
        if (this.expiry.isExpired(job)) await this.expiry.expire(id);
        // A cancelled job's record lives as long as its finished pages may be read.
      } else if (!(await this.cancellations.isCancelled(id))) {
        await this.storage.removeDocument(id);
      }
    }
  }
}
