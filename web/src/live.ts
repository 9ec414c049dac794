/**
 * Follows a job until it ends: Server-Sent Events from /v1/jobs/{id}/events where the API has
 * them, polling GET /v1/jobs/{id} as Retry-After asks otherwise. An event is taken as the job
 * itself when it carries one, and as a cue to read the job again when it does not.
 */
import { ApiError, FINAL, getJob, type Job, request, retryAfter, sleep } from './api';

export interface Follower {
  onJob(job: Job): void;
  onError(error: ApiError): void;
  /** 'events' or 'polling': how the page is being kept up to date. */
  onMode?(mode: 'events' | 'polling'): void;
}

interface ServerEvent {
  event: string;
  data: string;
  id: string | null;
}

/** Reads an event stream as the EventSource spec parses it, through fetch so the key can be sent. */
export async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (e: ServerEvent) => void) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = { event: 'message', data: [] as string[], id: null as string | null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    // A CR at the end of a chunk may be the first half of a CRLF: wait for the next chunk.
    const held = buffer.endsWith('\r') ? '\r' : '';
    const lines = (held ? buffer.slice(0, -1) : buffer).split(/\r\n|\r|\n/);
    buffer = (lines.pop() ?? '') + held;
    for (const line of lines) {
      if (line === '') {
        if (event.data.length) onEvent({ event: event.event, data: event.data.join('\n'), id: event.id });
        event = { event: 'message', data: [], id: event.id };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') event.data.push(value);
      else if (field === 'event') event.event = value;
      else if (field === 'id') event.id = value;
    }
  }
}

function asJob(data: string, id: string): Job | null {
  try {
    const value = JSON.parse(data) as Partial<Job>;
    if (value && value.id === id && typeof value.status === 'string' && value.progress) return value as Job;
  } catch {
    // Not JSON, or not the job: a cue only.
  }
  return null;
}

/** Starts following; the returned function stops it. */
export function followJob(id: string, follower: Follower): () => void {
  const stop = new AbortController();
  const { signal } = stop;
  let eventsAvailable = true;
  let lastEventId: string | null = null;

  const publish = (job: Job) => {
    follower.onJob(job);
    if (FINAL.includes(job.status)) stop.abort();
  };

  /** Reads the job; answers how long the API asks us to wait before asking again. */
  const refresh = async (): Promise<number> => {
    const { body, res } = await getJob(id, signal);
    publish(body);
    return retryAfter(res.headers.get('Retry-After')) ?? 2;
  };

  /** One connection to the event stream; false when the API has none. */
  const stream = async (): Promise<boolean> => {
    let res: Response;
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      res = await request(`/v1/jobs/${encodeURIComponent(id)}/events`, { headers, signal });
    } catch (error) {
      if (signal.aborted) throw error;
      return false;
    }
    if (!res.body || !(res.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) {
      await res.body?.cancel();
      return false;
    }
    follower.onMode?.('events');
    // Events may come faster than reads of the job; one read at a time, and one more after it.
    let reading: Promise<unknown> | null = null;
    let again = false;
    const cue = () => {
      if (reading) {
        again = true;
        return;
      }
      reading = refresh()
        .catch(() => undefined)
        .finally(() => {
          reading = null;
          if (!again || signal.aborted) return;
          again = false;
          cue();
        });
    };
    await readEvents(res.body, (event) => {
      if (event.id) lastEventId = event.id;
      const job = asJob(event.data, id);
      if (job) publish(job);
      else cue();
    });
    return true;
  };

  void (async () => {
    let wait = 0;
    while (!signal.aborted) {
      try {
        if (wait) await sleep(wait * 1000, signal);
        wait = await refresh();
        if (signal.aborted) return;
        if (eventsAvailable) {
          eventsAvailable = await stream();
          // The stream ended (a proxy's timeout, a restart): read the job, then listen again.
          if (eventsAvailable) wait = 1;
          else follower.onMode?.('polling');
        }
      } catch (error) {
        if (signal.aborted) return;
        const apiError = error instanceof ApiError ? error : new ApiError(0, 'network_error', String(error));
        // A job that is gone stays gone; anything else (a limit, a blip) is waited out.
        if (apiError.status === 404 || apiError.status === 401) {
          follower.onError(apiError);
          return;
        }
        if (apiError.status === 429 || apiError.status >= 500 || apiError.status === 0) {
          follower.onError(apiError);
          wait = Math.max(apiError.retryAfter ?? 0, 3);
        } else {
          follower.onError(apiError);
          return;
        }
      }
    }
  })();

  return () => stop.abort();
}
