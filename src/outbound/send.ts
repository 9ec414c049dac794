import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { lookup as dnsLookup } from 'node:dns';
import type { Readable } from 'node:stream';
import { guardedLookup, type OutboundPolicy, OutboundUrlError, parseOutboundUrl } from './outbound-url';

/** What a delivery got back: an HTTP status, or why there was none. */
export interface Answer {
  status: number | null;
  error: string | null;
}

export interface Delivery {
  method: 'POST' | 'PUT';
  headers: OutgoingHttpHeaders;
  body: Buffer | string | Readable;
  policy: OutboundPolicy;
  /** Longest silence from the receiver, not the whole transfer. */
  timeoutMs: number;
  /** Names the URL in messages: callbackUrl, outputUrl. */
  field: string;
}

/**
 * Sends one request to a URL a client gave, checked again now and connected to the address
 * that passed (see guardedLookup); never follows a redirect. Never throws: a refused URL,
 * a lost connection or a silent receiver come back as `error`.
 */
export function deliver(raw: string, delivery: Delivery): Promise<Answer> {
  let url: URL;
  try {
    url = parseOutboundUrl(raw, delivery.policy, delivery.field);
  } catch (error) {
    return Promise.resolve({ status: null, error: (error as Error).message });
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(url, {
      method: delivery.method,
      lookup: guardedLookup(delivery.policy, dnsLookup, delivery.field),
      timeout: delivery.timeoutMs,
      headers: delivery.headers,
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? null, error: null }));
      res.on('error', () => resolve({ status: res.statusCode ?? null, error: null }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${delivery.timeoutMs} ms`)));
    req.on('error', (error) =>
      resolve({ status: null, error: error instanceof OutboundUrlError ? error.message : `${error.message}`.slice(0, 300) }),
    );
    const { body } = delivery;
    if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else body.on('error', (error) => req.destroy(error)).pipe(req);
  });
}
