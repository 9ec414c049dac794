/**
 * The service, as the CLI uses it: the typed client of openapi/ (openapi-fetch over the
 * `paths` of schema.d.ts), so a change to the contract fails this file's type check. Every
 * call honours `Retry-After` on 429 and 503; jobs are followed by their event stream, and by
 * polls as `Retry-After` asks when the stream is refused or breaks.
 */
import createClient, { type Client } from 'openapi-fetch';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { components, paths } from '../../openapi/schema';
import type { JobOptions } from './job-key';
import { sseEvents } from './sse';

export type Job = components['schemas']['Job'];
export type JobStatus = Job['status'];
export type ResultFormat = NonNullable<NonNullable<paths['/v1/jobs/{id}/result']['get']['parameters']['query']>['format']>;
export const RESULT_FORMATS: readonly ResultFormat[] = ['pdf', 'txt', 'json', 'hocr', 'alto'];
export const FINAL: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** A failure with the service's stable code (or the CLI's own: service_unreachable, output_unwritable...). */
export class OcrError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  server: string;
  apiKey?: string;
  signal?: AbortSignal;
  /** Told when the CLI waits because the service asked it to. */
  notice?: (message: string) => void;
  /**
   * Seconds to keep trying a service that does not answer (an API restarting under a long
   * batch); 0 fails at once, as one file does for a script. Uploads are safe to resend: they
   * carry an Idempotency-Key.
   */
  reconnectSeconds?: number;
}

export interface Progress {
  status: JobStatus;
  pagesDone: number;
  pagesTotal: number | null;
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(value: string | null): number | null {
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** Waits asked for are honoured, within reason: a server that says an hour is asked again after a minute. */
const MAX_WAIT_SECONDS = 60;
const DEFAULT_WAIT_SECONDS = 2;

type Answer = { response: Response; error?: unknown };

function errorOf(answer: Answer): OcrError {
  const body = answer.error as Partial<components['schemas']['Error']> | string | undefined;
  if (body && typeof body === 'object' && typeof body.code === 'string')
    return new OcrError(body.code, body.message ?? body.code, answer.response.status);
  return new OcrError(`http_${answer.response.status}`, `The server answered ${answer.response.status} ${answer.response.statusText}`);
}

export class OcrClient {
  private readonly api: Client<paths>;

  constructor(private readonly options: ClientOptions) {
    const server = options.server.replace(/\/+$/, '');
    this.api = createClient<paths>({
      baseUrl: server,
      headers: options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {},
      fetch: async (request) => {
        try {
          return await fetch(request);
        } catch (error) {
          if (options.signal?.aborted) throw options.signal.reason;
          const cause = (error as { cause?: { code?: string; message?: string } }).cause;
          throw new OcrError('service_unreachable', `Cannot reach the OCR service at ${server}: ${cause?.code ?? cause?.message ?? error}`);
        }
      },
    });
  }

  private get signal() {
    return this.options.signal;
  }

  /** Sends until the answer is neither 429 nor 503 (nor a key still being claimed), waiting as asked between. */
  private async send<T extends Answer>(what: string, call: () => Promise<T>): Promise<T> {
    let unreachableSince: number | null = null;
    let misses = 0;
    for (;;) {
      let answer: T;
      try {
        answer = await call();
        unreachableSince = null;
        misses = 0;
      } catch (error) {
        if (!(error instanceof OcrError) || error.code !== 'service_unreachable') throw error;
        unreachableSince ??= Date.now();
        const left = (this.options.reconnectSeconds ?? 0) - (Date.now() - unreachableSince) / 1000;
        if (left <= 0) throw error;
        // 1, 2, 4, then every 5 s: an API restarting is back within seconds.
        const wait = Math.min(2 ** misses++, 5, left);
        this.options.notice?.(`${what}: ${error.message}; trying again in ${Math.ceil(wait)} s`);
        await sleep(wait * 1000, this.signal);
        continue;
      }
      const status = answer.response.status;
      const code = answer.response.ok ? null : errorOf(answer).code;
      if (status !== 429 && status !== 503 && code !== 'idempotency_key_in_use') return answer;
      const asked = retryAfterSeconds(answer.response.headers.get('Retry-After'));
      const wait = Math.min(asked ?? DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS);
      this.options.notice?.(`${what}: ${status} ${code}; trying again in ${wait} s${asked === null ? '' : ', as Retry-After asks'}`);
      await sleep(wait * 1000, this.signal);
    }
  }

  /** Uploads a file; with `idempotencyKey`, the job an earlier upload of it made comes back instead (`replayed`). */
  async submit(file: Blob, name: string, options: JobOptions, idempotencyKey?: string): Promise<{ job: Job; replayed: boolean }> {
    const answer = await this.send(`upload of ${name}`, () =>
      this.api.POST('/v1/jobs', {
        params: { header: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {} },
        body: { file, languages: options.languages, pages: options.pages, ocr: options.ocr },
        // Multipart, so that the service names the outputs after the file.
        bodySerializer: () => {
          const form = new FormData();
          form.append('file', file, name);
          if (options.languages) form.append('languages', options.languages);
          if (options.pages) form.append('pages', options.pages);
          form.append('ocr', options.ocr);
          return form;
        },
        signal: this.signal,
      }),
    );
    if (!answer.data) throw errorOf(answer);
    return { job: answer.data, replayed: answer.response.headers.get('Idempotent-Replayed') === 'true' };
  }

  async job(id: string): Promise<{ job: Job; retryAfter: number | null }> {
    const answer = await this.send('status', () => this.api.GET('/v1/jobs/{id}', { params: { path: { id } }, signal: this.signal }));
    if (!answer.data) throw errorOf(answer);
    return { job: answer.data, retryAfter: retryAfterSeconds(answer.response.headers.get('Retry-After')) };
  }

  /** Forgets a job (and frees its Idempotency-Key), for a rerun that must not get a dead job back. */
  async remove(id: string): Promise<void> {
    const answer = await this.send('delete', () => this.api.DELETE('/v1/jobs/{id}', { params: { path: { id } }, signal: this.signal }));
    if (!answer.response.ok && answer.response.status !== 404) throw errorOf(answer);
  }

  /** Follows a job to its end: its events while the stream lasts, then polls. */
  async follow(job: Job, onProgress: (progress: Progress) => void): Promise<Job> {
    onProgress({ status: job.status, ...job.progress });
    if (FINAL.includes(job.status)) return job;
    let wait: number | null = null;
    try {
      wait = await this.followEvents(job.id, onProgress);
    } catch (error) {
      if (this.signal?.aborted || (error instanceof OcrError && error.status === 404)) throw error;
      // The stream broke: polling goes on from where it was.
    }
    for (;;) {
      if (wait !== null) await sleep(Math.min(wait, MAX_WAIT_SECONDS) * 1000, this.signal);
      const { job: now, retryAfter } = await this.job(job.id);
      onProgress({ status: now.status, ...now.progress });
      if (FINAL.includes(now.status)) return now;
      wait = retryAfter ?? DEFAULT_WAIT_SECONDS;
    }
  }

  /**
   * Reads the job's event stream until its final status; returns how long to wait before
   * polling (null: at once). A stream refused (429 too_many_streams) is not waited for: polls
   * do the same work, as its Retry-After asks.
   */
  private async followEvents(id: string, onProgress: (progress: Progress) => void): Promise<number | null> {
    const answer = await this.api.GET('/v1/jobs/{id}/events', { params: { path: { id } }, parseAs: 'stream', signal: this.signal });
    if (!answer.response.ok || !answer.data) {
      const error = errorOf(answer);
      if (answer.response.status === 404) throw error;
      return retryAfterSeconds(answer.response.headers.get('Retry-After')) ?? DEFAULT_WAIT_SECONDS;
    }
    for await (const event of sseEvents(answer.data as unknown as AsyncIterable<Uint8Array>)) {
      if (event.event !== 'status') continue;
      const status = JSON.parse(event.data) as { status: JobStatus; pagesTotal: number | null; pagesDone: number };
      onProgress({ status: status.status, pagesDone: status.pagesDone, pagesTotal: status.pagesTotal });
      if (FINAL.includes(status.status)) return null;
    }
    return null;
  }

  /** Streams one format of a completed job to `dest` (written whole or not at all) or, for `-`, to stdout. */
  async download(id: string, format: ResultFormat, dest: string): Promise<void> {
    const answer = await this.send(`${format} result`, () =>
      this.api.GET('/v1/jobs/{id}/result', { params: { path: { id }, query: { format } }, parseAs: 'stream', signal: this.signal }),
    );
    if (!answer.response.ok || !answer.data) throw errorOf(answer);
    const body = Readable.fromWeb(answer.data as unknown as WebReadableStream<Uint8Array>);
    if (dest === '-') {
      for await (const chunk of body) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
      return;
    }
    // A partial file under the final name would pass for done on the next run.
    const partial = `${dest}.${process.pid}.part`;
    try {
      await pipeline(body, createWriteStream(partial));
      await rename(partial, dest);
    } catch (error) {
      await rm(partial, { force: true });
      if (this.signal?.aborted) throw error;
      const failure = error as NodeJS.ErrnoException;
      if (failure.code && failure.syscall) throw new OcrError('output_unwritable', `Cannot write ${dest}: ${failure.message}`);
      throw error;
    }
  }
}
