import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { diskStorage } from 'multer';
import { AppConfig } from '../../config/config';
import { LanguagesModule } from '../languages/languages.module';
import { StorageModule } from '../../storage/storage.module';
import { StorageService } from '../../storage/storage.service';
import { JobsController } from './jobs.controller';
import { PageImagesService } from './page-images.service';
import { EventsModule } from '../events/events.module';
import { WebhooksModule } from '../../webhooks/webhooks.module';
import { DocumentExpiry } from '../../queue/document-expiry.service';
import { JobLifecycle } from './job-lifecycle.service';
import { JobReader } from './job-reader.service';
import { JobStore } from './job-store';
import { JobSubmission } from './job-submission.service';
import { QueueLoad } from './queue-load.service';
import { JobSources } from './job-sources.service';

@Module({
  imports: [
    LanguagesModule,
    StorageModule,
    EventsModule,
    WebhooksModule,
    MulterModule.registerAsync({
      imports: [StorageModule],
      inject: [AppConfig, StorageService],
      useFactory: (config: AppConfig, storage: StorageService) => ({
        // Streamed to disk under a name of our own; the whole body is never held in memory.
        storage: diskStorage({ destination: storage.incomingDir, filename: (_req, _file, done) => done(null, randomUUID()) }),
        // A presigned outputUrl can run to a couple of thousand characters.
        limits: { fileSize: config.maxUploadBytes, files: 1, fields: 16, fieldSize: 4096 },
        // Browsers and curl send file names in UTF-8 without saying so.
        defParamCharset: 'utf8',
      }),
    }),
  ],
  controllers: [JobsController],
  providers: [JobStore, JobSubmission, JobReader, JobLifecycle, DocumentExpiry, PageImagesService, QueueLoad, JobSources],
})
export class JobsModule {}
