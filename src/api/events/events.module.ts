import { Module } from '@nestjs/common';
import { JobWatcher } from './job-watcher.service';

/** Live progress across API replicas: Redis pub/sub to wake, per-job Redis streams to read. */
@Module({ providers: [JobWatcher], exports: [JobWatcher] })
export class EventsModule {}
