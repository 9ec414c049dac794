import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnModuleDestroy } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AppConfig } from '../config/config';
import { WEBHOOKS_QUEUE, type WebhookJobData } from '../contract/queues';
import { withJobContext } from '../logging/job-context';
import { CallbackUrlError, guardedLookup, parseCallbackUrl } from '../webhooks/callback-url';
import { signatureHeader } from '../webhooks/signature';
import { WebhooksService } from '../webhooks/webhooks.service';

interface Answer {
  status: number | null;
  error: string | null;
}

/**
 * POSTs a job's final status to its callbackUrl, signed, and retries with exponential
 * backoff until the receiver answers 2xx (at least once: receivers dedupe on the event id).
 */
@Processor(WEBHOOKS_QUEUE, { concurrency: 8 })
export class WebhookProcessor extends WorkerHost implements OnModuleDestroy {
  private readonly logger = new Logger(WebhookProcessor.name);

  constructor(
    private readonly config: AppConfig,
    private readonly webhooks: WebhooksService,
  ) {
    super();
  }

  async onModuleDestroy() {
    await this.worker.close();
  }

  async process(job: Job<WebhookJobData>) {
    return withJobContext({ jobId: job.data.documentId }, () => this.deliver(job));
  }

  private async deliver(job: Job<WebhookJobData>) {
    const { secret } = this.config.webhooks;
    if (!secret) throw new UnrecoverableError('WEBHOOK_SECRET is not set on the worker; the webhook cannot be signed.');
    const answer = await this.post(job, secret);
    const delivered = answer.status !== null && answer.status >= 200 && answer.status < 300;
    await this.webhooks.record(
      job.data.documentId,
      job.data.url,
      { attempts: job.attemptsMade + 1, ...answer, delivered },
      job.data.retention,
    );
    if (!delivered) throw new Error(`Webhook for ${job.data.documentId} (${job.data.event}): ${answer.error ?? `HTTP ${answer.status}`}`);
    this.logger.log(`Webhook for ${job.data.documentId} (${job.data.event}) delivered: HTTP ${answer.status}`);
  }

  private post(job: Job<WebhookJobData>, secret: string): Promise<Answer> {
    const { body, url: raw, eventId, event, documentId } = job.data;
    const policy = { allowPrivate: this.config.webhooks.allowPrivate, allowHttp: this.config.webhooks.allowHttp };
    let url: URL;
    try {
      url = parseCallbackUrl(raw, policy);
    } catch (error) {
      return Promise.resolve({ status: null, error: (error as Error).message });
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = send(
        url,
        {
          method: 'POST',
          // Checked again now, and the connection goes to the address that passed.
          lookup: guardedLookup(policy),
          timeout: this.config.webhooks.timeoutMs,
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
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? null, error: null }));
          res.on('error', () => resolve({ status: res.statusCode ?? null, error: null }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.config.webhooks.timeoutMs} ms`)));
      req.on('error', (error) =>
        resolve({ status: null, error: error instanceof CallbackUrlError ? error.message : `${error.message}`.slice(0, 300) }),
      );
      req.end(body);
    });
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<WebhookJobData> | undefined, error: Error) {
    const left = job ? (job.opts.attempts ?? 1) - job.attemptsMade : 0;
    withJobContext({ jobId: job?.data.documentId ?? '' }, () =>
      this.logger.warn(`${error.message}${left > 0 ? ` (${left} attempts left)` : ' (giving up)'}`),
    );
  }
}
