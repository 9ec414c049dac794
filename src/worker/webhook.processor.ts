import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnModuleDestroy } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { AppConfig } from '../config/config';
import { FORMAT_INFO } from '../contract/formats';
import type { JobView } from '../contract/job-view';
import {
  type DocumentsQueue,
  InjectDocumentsQueue,
  OUTPUT_JOB,
  type OutputJobData,
  WEBHOOKS_QUEUE,
  type WebhookJobData,
  workerOptions,
} from '../contract/queues';
import { withJobContext } from '../logging/job-context';
import { type Answer, deliver } from '../outbound/send';
import { StorageService } from '../storage/storage.service';
import { signatureHeader } from '../webhooks/signature';
import { WebhooksService } from '../webhooks/webhooks.service';

/** How often a delivery looks again for its document's completion. */
const COMPLETION_POLL_MS = 200;

const succeeded = (answer: Answer) => answer.status !== null && answer.status >= 200 && answer.status < 300;

/**
 * POSTs a job's final status to its callbackUrl, signed, and PUTs a completed job's output
 * to its outputUrl; both retried with exponential backoff until the receiver answers 2xx
 * (at least once: webhook receivers dedupe on the event id).
 */
// The same locks as the other queues: a delivery held by a worker that died is taken up within 25 s, not BullMQ's 60.
@Processor(WEBHOOKS_QUEUE, { ...workerOptions, concurrency: 8 })
export class WebhookProcessor extends WorkerHost implements OnModuleDestroy {
  private readonly logger = new Logger(WebhookProcessor.name);

  constructor(
    private readonly config: AppConfig,
    private readonly webhooks: WebhooksService,
    private readonly storage: StorageService,
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
  ) {
    super();
  }

  async onModuleDestroy() {
    await this.worker.close();
  }

  async process(job: Job<WebhookJobData | OutputJobData>, token?: string) {
    return withJobContext({ jobId: job.data.documentId }, async () => {
      const output = job.name === OUTPUT_JOB;
      const event = output ? 'completed' : (job.data as WebhookJobData).event;
      // A cancellation is announced by the API once it is recorded; the rest wait for theirs.
      if (event !== 'cancelled' && !(await this.documentReached(event, job, token!))) return;
      return output ? this.putOutput(job as Job<OutputJobData>) : this.postWebhook(job as Job<WebhookJobData>);
    });
  }

  /**
   * A finished document's deliveries are queued just before BullMQ records how it finished:
   * they wait for that (without using an attempt), so that a receiver that then asks for the
   * job finds it as the webhook says. A document that finished otherwise, or is gone, gets none.
   */
  private async documentReached(event: 'completed' | 'failed', job: Job, token: string): Promise<boolean> {
    const state = await this.documents.getJobState(job.data.documentId as string);
    if (state === event) return true;
    if (state === 'completed' || state === 'failed' || state === 'unknown') {
      this.logger.warn(
        `Dropped the ${event} ${job.name} of document ${job.data.documentId}, which is ${state === 'unknown' ? 'gone' : state}`,
      );
      return false;
    }
    await job.moveToDelayed(Date.now() + COMPLETION_POLL_MS, token);
    throw new DelayedError();
  }

  private async postWebhook(job: Job<WebhookJobData>) {
    const { secret } = this.config.webhooks;
    if (!secret) throw new UnrecoverableError('WEBHOOK_SECRET is not set on the worker; the webhook cannot be signed.');
    const { body, url, eventId, event, documentId } = job.data;
    const answer = await deliver(url, {
      method: 'POST',
      policy: this.config.webhooks,
      timeoutMs: this.config.webhooks.timeoutMs,
      field: 'callbackUrl',
      body,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'ocr-service-webhook/1',
        'x-ocr-event': event,
        'x-ocr-event-id': eventId,
        'x-ocr-job-id': documentId,
        'x-ocr-delivery-attempt': String(job.attemptsMade + 1),
        'x-ocr-signature': signatureHeader(secret, body),
      },
    });
    const delivered = succeeded(answer);
    await this.webhooks.record(documentId, url, { attempts: job.attemptsMade + 1, ...answer, delivered }, job.data.retention);
    if (!delivered) throw new Error(`Webhook for ${documentId} (${event}): ${answer.error ?? `HTTP ${answer.status}`}`);
    this.logger.log(`Webhook for ${documentId} (${event}) delivered: HTTP ${answer.status}`);
  }

  /**
   * The stored output, streamed with its length (presigned S3 PUTs take no chunked body).
   * The webhook follows the last attempt, delivered or not, and shows how it went.
   */
  private async putOutput(job: Job<OutputJobData>) {
    const { documentId, format, retention } = job.data;
    const attempts = job.attemptsMade + 1;
    const stored = await this.storage.open(this.storage.outputKey(documentId, format));
    const answer: Answer = stored
      ? await deliver(job.data.url, {
          method: 'PUT',
          policy: this.config.webhooks,
          timeoutMs: this.config.webhooks.timeoutMs,
          field: 'outputUrl',
          body: stored.body,
          headers: {
            'content-type': FORMAT_INFO[format].mediaType,
            'content-length': stored.size,
            'user-agent': 'ocr-service-output/1',
            'x-ocr-job-id': documentId,
          },
        })
      : { status: null, error: `This job has no ${format} output to send.` };
    stored?.body.destroy();
    const delivered = succeeded(answer);
    const gaveUp = !delivered && (!stored || attempts >= (job.opts.attempts ?? 1));
    await this.webhooks.recordOutput(documentId, { attempts, ...answer, delivered, gaveUp }, retention);
    if (delivered || gaveUp) await this.sendWebhookAfter(job.data);
    if (!stored) throw new UnrecoverableError(answer.error!);
    if (!delivered) throw new Error(`Output of ${documentId} to outputUrl: ${answer.error ?? `HTTP ${answer.status}`}`);
    this.logger.log(`Output of ${documentId} (${format}) delivered: HTTP ${answer.status}`);
  }

  private async sendWebhookAfter(data: OutputJobData) {
    if (!data.callbackUrl) return;
    const view = JSON.parse(data.view) as JobView;
    view.output = await this.webhooks.outputStatus(data.documentId, data.format, view.status);
    await this.webhooks.enqueue(view, data.callbackUrl, data.retention);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<WebhookJobData | OutputJobData> | undefined, error: Error) {
    const left = job ? (job.opts.attempts ?? 1) - job.attemptsMade : 0;
    withJobContext({ jobId: job?.data.documentId ?? '' }, () =>
      this.logger.warn(`${error.message}${left > 0 ? ` (${left} attempts left)` : ' (giving up)'}`),
    );
  }
}
