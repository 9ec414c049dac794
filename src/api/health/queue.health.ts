import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { type DocumentsQueue, InjectDocumentsQueue, InjectPagesQueue, type PagesQueue } from '../../contract/queues';
import { QueueRedis } from '../../queue/queue-redis';
import { withTimeout } from '../../queue/with-timeout';

const CHECK_TIMEOUT_MS = 1000;

/** Readiness: Redis answers, and the queues' own keys can be read (a PING alone passes under a too-narrow ACL). */
@Injectable()
export class QueueHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    @InjectPagesQueue() private readonly pages: PagesQueue,
    private readonly connection: QueueRedis,
  ) {}

  async redis() {
    const check = this.indicator.check('redis');
    try {
      const pong = await withTimeout(() => this.connection.ping(), CHECK_TIMEOUT_MS);
      return pong === 'PONG' ? check.up() : check.down({ message: `PING answered ${pong}` });
    } catch (error) {
      return check.down({ message: (error as Error).message });
    }
  }

  async queues() {
    const check = this.indicator.check('queues');
    try {
      const paused = await withTimeout(() => Promise.all([this.documents, this.pages].map((q) => q.isPaused())), CHECK_TIMEOUT_MS);
      const names = [this.documents, this.pages].filter((_, i) => paused[i]).map((q) => q.name);
      // A paused queue takes jobs but never runs them.
      return names.length ? check.down({ message: `Paused: ${names.join(', ')}` }) : check.up();
    } catch (error) {
      return check.down({ message: (error as Error).message });
    }
  }
}
