import { Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import { LoggingModule } from './logging/logging.module';
import { WorkerMetricsModule } from './worker/metrics/worker-metrics.module';
import { LanguageCatalog } from './worker/ocr/language-catalog';
import { OutputPoolService } from './worker/output/output-pool.service';
import { PdfPoolService } from './worker/pdf/pdf-pool.service';
import { DocumentExpiry } from './queue/document-expiry.service';
import { QueueModule } from './queue/queue.module';
import { StorageModule } from './storage/storage.module';
import { DocumentProcessor } from './worker/document.processor';
import { EventLoopMonitor } from './worker/event-loop-monitor';
import { HeartbeatService } from './worker/heartbeat.service';
import { ImageProcessor } from './worker/image.processor';
import { LocalCopiesListener } from './worker/local-copies.listener';
import { PageProcessor } from './worker/page.processor';
import { StorageSweeper } from './worker/storage-sweeper';
import { WorkerAnnouncer } from './worker/worker-announcer.service';
import { WebhookProcessor } from './worker/webhook.processor';
import { WebhooksModule } from './webhooks/webhooks.module';

/** The worker process: the BullMQ processors and the thread pool that runs pdf.js and tesseract.js. */
@Module({
  imports: [ConfigModule, QueueModule.register('consumer'), StorageModule, LoggingModule, WorkerMetricsModule, WebhooksModule],
  providers: [
    LanguageCatalog,
    WorkerAnnouncer,
    PdfPoolService,
    OutputPoolService,
    DocumentProcessor,
    PageProcessor,
    ImageProcessor,
    WebhookProcessor,
    StorageSweeper,
    DocumentExpiry,
    EventLoopMonitor,
    HeartbeatService,
    LocalCopiesListener,
  ],
})
export class WorkerModule {}
