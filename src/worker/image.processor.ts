import { Processor, WorkerHost } from '@nestjs/bullmq';
import { OnModuleDestroy } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { encodeFailure } from '../contract/failures';
import { IMAGES_QUEUE, ImageJobData, workerOptions } from '../contract/queues';
import { withJobContext } from '../logging/job-context';
import { StorageService } from '../storage/storage.service';
import { PdfPoolService } from './pdf/pdf-pool.service';

/** Renders a page as a PNG when the API is asked for one that is not in storage yet. */
@Processor(IMAGES_QUEUE, workerOptions)
export class ImageProcessor extends WorkerHost implements OnModuleDestroy {
  constructor(
    private readonly storage: StorageService,
    private readonly pdf: PdfPoolService,
  ) {
    super();
  }

  async onModuleDestroy() {
    await this.worker.close();
  }

  async process(job: Job<ImageJobData>): Promise<void> {
    const { documentId, page, width } = job.data;
    return withJobContext({ jobId: documentId, page }, async () => {
      let outcome;
      try {
        outcome = await this.pdf.renderImage({ path: await this.storage.localFile(job.data.uploadKey), page, width });
      } finally {
        // Images are asked for after the document ended, when no other event would clear the copy.
        await this.storage.releaseLocalFile(job.data.uploadKey);
      }
      if (!outcome.ok) throw new UnrecoverableError(encodeFailure(outcome.code, outcome.message));
      await this.storage.writeFile(this.storage.imageKey(documentId, page, width), outcome.png);
    });
  }
}
