import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { QueueHealthIndicator } from './queue.health';

@Module({
  // Terminus logs failed checks itself; nestjs-pino turns them into one line each.
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
  controllers: [HealthController],
  providers: [QueueHealthIndicator],
})
export class HealthModule {}
