import { Module } from '@nestjs/common';
import { JobWatcher } from './job-watcher.service';
import { StreamLimits } from './stream-limits.service';

/** Live progress across API replicas: Redis pub/sub to wake, per-job Redis streams to read. */
@Module({ providers: [JobWatcher, StreamLimits], exports: [JobWatcher, StreamLimits] })
export class EventsModule {}
