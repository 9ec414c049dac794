import { Module } from '@nestjs/common';
import { WebhooksService } from './webhooks.service';

/** Callback URLs and their deliveries; the queues come from the global QueueModule. */
@Module({ providers: [WebhooksService], exports: [WebhooksService] })
export class WebhooksModule {}
