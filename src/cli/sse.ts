/** One Server-Sent Event, as `GET /v1/jobs/{id}/events` sends them. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * The events of a text/event-stream body as they arrive (the WHATWG parsing rules for the
 * fields the API sends: id, event, data, comments).
 */
export async function* sseEvents(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: Partial<SseEvent> & { data?: string } = {};
  const take = function* (final: boolean): Generator<SseEvent> {
    let end: number;
    while ((end = buffer.search(/\r\n|\r|\n/)) >= 0 || (final && buffer)) {
      const line = end >= 0 ? buffer.slice(0, end) : buffer;
      buffer = end >= 0 ? buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1)) : '';
      if (line === '') {
        if (event.data !== undefined) yield { id: event.id, event: event.event ?? 'message', data: event.data };
        event = {};
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
      else if (field === 'event') event.event = value;
      else if (field === 'id') event.id = value;
    }
  };
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
    if (buffer.endsWith('\r')) continue;
    yield* take(false);
  }
  buffer += decoder.decode();
  yield* take(true);
}
