import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { guardedLookup, type OutboundPolicy, OutboundUrlError, parseOutboundUrl } from './outbound-url';
import { lookup as dnsLookup } from 'node:dns';

/** The URL answered, but not with a file (an HTTP error, no connection, too slow). */
export class SourceUnavailableError extends Error {}

/** The file is larger than the limit; nothing more of it was read. */
export class SourceTooLargeError extends Error {}

export interface DownloadOptions {
  policy: OutboundPolicy;
  /** Where the file is written, under a name of our own. */
  dir: string;
  /** Most bytes read; past it the download stops. */
  limit: number;
  /** For the whole download, redirects included. */
  timeoutMs: number;
}

export interface Download {
  path: string;
  size: number;
  /** The name the server gave the file (Content-Disposition), else the last segment of its URL path. */
  fileName: string;
}

const MAX_REDIRECTS = 5;
const tooLarge = (limit: number) =>
  new SourceTooLargeError(`The file at ${FIELD} is larger than the limit of ${limit} bytes (MAX_UPLOAD_BYTES).`);
const FIELD = 'url';

/**
 * Fetches `raw` to a file: https only (unless the policy allows http), every hop's host
 * checked against the policy at connection time, at most five redirects, cut off past
 * `limit` bytes or `timeoutMs`. Throws OutboundUrlError, SourceTooLargeError or
 * SourceUnavailableError; leaves no file behind when it throws.
 */
export async function downloadToFile(raw: string, options: DownloadOptions): Promise<Download> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs);
  const path = join(options.dir, randomUUID());
  try {
    let url = parseOutboundUrl(raw, options.policy, FIELD);
    for (let hop = 0; ; hop++) {
      const res = await get(url, options.policy, abort.signal);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (hop === MAX_REDIRECTS) throw new SourceUnavailableError(`${FIELD} redirected more than ${MAX_REDIRECTS} times.`);
        url = parseOutboundUrl(new URL(res.headers.location, url).href, options.policy, FIELD);
        continue;
      }
      if (status < 200 || status >= 300) {
        res.resume();
        throw new SourceUnavailableError(`${FIELD} answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}.`);
      }
      if (Number(res.headers['content-length']) > options.limit) {
        res.destroy();
        throw tooLarge(options.limit);
      }
      const size = await saveCapped(res, path, options.limit, () => tooLarge(options.limit));
      return { path, size, fileName: fileNameOf(res, url) };
    }
  } catch (error) {
    await rm(path, { force: true });
    if (abort.signal.aborted) throw new SourceUnavailableError(`${FIELD} did not deliver the file within ${options.timeoutMs / 1000} s.`);
    if (error instanceof OutboundUrlError || error instanceof SourceTooLargeError || error instanceof SourceUnavailableError) throw error;
    throw new SourceUnavailableError(`${FIELD} could not be fetched: ${(error as Error).message}`.slice(0, 300));
  } finally {
    clearTimeout(timer);
  }
}

function get(url: URL, policy: OutboundPolicy, signal: AbortSignal): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      // The connection goes to the address that passed the policy, on every hop.
      lookup: guardedLookup(policy, dnsLookup, FIELD),
      signal,
      headers: { accept: 'application/pdf, */*;q=0.5', 'user-agent': 'ocr-service-fetch/1' },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

/**
 * Streams `source` into the file `path` and returns its size, failing with `over()` as soon
 * as more than `limit` bytes have come; the caller deletes what was written.
 */
export async function saveCapped(source: Readable, path: string, limit: number, over: () => Error): Promise<number> {
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > limit ? over() : null, chunk);
    },
  });
  await pipeline(source, counter, createWriteStream(path));
  return size;
}

function fileNameOf(res: IncomingMessage, url: URL): string {
  const disposition = res.headers['content-disposition'] ?? '';
  const encoded = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition)?.[1];
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition)?.[1];
  const fromPath = url.pathname.split('/').pop();
  for (const candidate of [encoded, plain, fromPath]) {
    if (!candidate) continue;
    try {
      return decodeURIComponent(candidate);
    } catch {
      return candidate;
    }
  }
  return 'download.pdf';
}
