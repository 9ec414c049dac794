import { HttpStatus, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { QueueEvents } from 'bullmq';
import { AppConfig } from '../../config/config';
import { reconnectEvery, redisOptions } from '../../config/redis';
import { decodeFailure } from '../../contract/failures';
import { IMAGE_JOB, type ImageJobData, imageJobId, type ImagesQueue, IMAGES_QUEUE, InjectImagesQueue } from '../../contract/queues';
import { ApiError, queueUnavailable } from '../errors/api-error';
import { withTimeout } from '../../queue/with-timeout';

/** How long a request waits for a worker to render its image before answering 503. */
const RENDER_WAIT_MS = 30_000;
const QUEUE_TIMEOUT_MS = 3000;

/**
 * Asks a worker to render a page image and waits until it is in storage. The API never
 * loads pdf.js: rendering is the workers' job, and the queue carries the request to them.
 */
@Injectable()
export class PageImagesService implements OnApplicationShutdown {
  private events: QueueEvents | null = null;

  constructor(
    @InjectImagesQueue() private readonly images: ImagesQueue,
    private readonly config: AppConfig,
  ) {}

  async render(data: ImageJobData): Promise<void> {
    const job = await withTimeout(
      () => this.images.add(IMAGE_JOB, data, { jobId: imageJobId(data.documentId, data.page, data.width) }),
      QUEUE_TIMEOUT_MS,
    ).catch(() => {
      throw queueUnavailable();
    });
    try {
      await job.waitUntilFinished(this.queueEvents(), RENDER_WAIT_MS);
    } catch (error) {
      const message = (error as Error).message;
      if (/timed out/i.test(message)) {
        throw new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'image_pending', 'The page image is still being rendered; try again shortly.');
      }
      const failure = decodeFailure(message);
      throw new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, failure.code, failure.message);
    }
  }

  /**
   * Completion events arrive on a blocking connection of their own, opened at the first
   * request: BullMQ wants it to retry forever, unlike the API's fail-fast connection.
   */
  private queueEvents(): QueueEvents {
    this.events ??= new QueueEvents(IMAGES_QUEUE, {
      prefix: this.config.queuePrefix,
      connection: { ...redisOptions(this.config.redis), retryStrategy: reconnectEvery, maxRetriesPerRequest: null },
    });
    return this.events;
  }

  async onApplicationShutdown() {
    await this.events?.close();
  }
}
