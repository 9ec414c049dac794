import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule, type BullBoardInstance, InjectBullBoard } from '@bull-board/nestjs';
import { Logger, Module, OnModuleInit } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { Queue } from 'bullmq';
import { AppConfig } from '../../config/config';
import { basicAuth, dashboardOff } from './basic-auth';

export const DASHBOARD_ROUTE = '/admin/queues';

/**
 * bull-board at /admin/queues, behind HTTP Basic authentication, with every queue the API
 * process has registered: found in the container rather than listed, so a queue added
 * later shows up without a change here.
 */
@Module({
  imports: [
    DiscoveryModule,
    BullBoardModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        route: DASHBOARD_ROUTE,
        adapter: ExpressAdapter,
        middleware: config.admin ? basicAuth(config.admin) : dashboardOff,
        boardOptions: { uiConfig: { boardTitle: 'OCR queues' } },
      }),
    }),
  ],
})
export class AdminModule implements OnModuleInit {
  private readonly logger = new Logger(AdminModule.name);

  constructor(
    @InjectBullBoard() private readonly board: BullBoardInstance,
    private readonly discovery: DiscoveryService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    const queues = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((instance): instance is Queue => instance instanceof Queue);
    this.board.setQueues(queues.map((queue) => new BullMQAdapter(queue)));
    if (this.config.admin) this.logger.log(`Queue dashboard at ${DASHBOARD_ROUTE} (${queues.map((q) => q.name).join(', ')})`);
    else this.logger.warn(`Queue dashboard is off: set ADMIN_USER and ADMIN_PASSWORD to turn it on at ${DASHBOARD_ROUTE}`);
  }
}
