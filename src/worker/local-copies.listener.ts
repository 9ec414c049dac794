import { OnQueueEvent, QueueEventsHost, QueueEventsListener } from '@nestjs/bullmq';
import { DOCUMENTS_QUEUE } from '../contract/queues';
import { StorageService } from '../storage/storage.service';

/**
 * With object storage every worker that read a page keeps a local copy of the PDF; this
 * hears, through Redis, that a document ended on whichever worker, and deletes this one's.
 */
@QueueEventsListener(DOCUMENTS_QUEUE)
export class LocalCopiesListener extends QueueEventsHost {
  constructor(private readonly storage: StorageService) {
    super();
  }

  @OnQueueEvent('completed')
  onCompleted({ jobId }: { jobId: string }) {
    this.release(jobId);
  }

  @OnQueueEvent('failed')
  onFailed({ jobId }: { jobId: string }) {
    this.release(jobId);
  }

  /** The document's PDF, and the image it was made of. */
  private release(jobId: string) {
    void this.storage.releaseLocalFile(this.storage.uploadKey(jobId));
    void this.storage.releaseLocalFile(this.storage.imageUploadKey(jobId));
  }
}
