import type { Request, Response } from 'express';
import { FINAL_STATUSES, type JobEvent } from '../../contract/events';
import type { JobView } from '../../contract/job-view';
import type { JobEvents } from '../../queue/job-events.service';
import type { JobWatcher } from './job-watcher.service';

const IDLE_MS = 15_000;

const isFinal = (event: JobEvent) => event.type === 'status' && FINAL_STATUSES.includes(event.status);

/**
 * Streams a job's events as Server-Sent Events: what happened after `Last-Event-ID` (or
 * everything), then each new event as it is added, and ends after the final status.
 */
export async function streamJobEvents(req: Request, res: Response, view: JobView, events: JobEvents, watcher: JobWatcher) {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    // nginx would otherwise buffer the stream.
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  res.write('retry: 2000\n\n');
  let closed = false;
  let wakeup: ReturnType<JobWatcher['next']> | null = null;
  req.on('close', () => {
    closed = true;
    wakeup?.cancel();
  });
  let after = /^\d+-\d+$/.test(String(req.headers['last-event-id'] ?? '')) ? String(req.headers['last-event-id']) : '0';
  const send = (event: JobEvent, id?: string) =>
    res.write(`${id ? `id: ${id}\n` : ''}event: ${event.type}\ndata: ${JSON.stringify({ jobId: view.id, ...event })}\n\n`);
  try {
    while (!closed && !watcher.stopping) {
      wakeup = watcher.next(view.id, IDLE_MS);
      const batch = await events.read(view.id, after);
      for (const { id, event } of batch) {
        send(event, id);
        after = id;
        if (isFinal(event)) return;
      }
      // A job that finished before it had events (or whose stream expired) still ends the stream.
      if (!batch.length && FINAL_STATUSES.includes(view.status)) {
        send({
          type: 'status',
          status: view.status,
          pagesTotal: view.progress.pagesTotal,
          pagesDone: view.progress.pagesDone,
          error: view.error,
        });
        return;
      }
      if (!batch.length) {
        await wakeup.promise;
        if (!closed) res.write(': keep-alive\n\n');
      }
      wakeup.cancel();
    }
  } finally {
    wakeup?.cancel();
    res.end();
  }
}
