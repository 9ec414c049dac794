import { sseEvents, type SseEvent } from './sse';

async function parse(...chunks: string[]): Promise<SseEvent[]> {
  const source = (async function* () {
    for (const chunk of chunks) yield new TextEncoder().encode(chunk);
  })();
  const events: SseEvent[] = [];
  for await (const event of sseEvents(source)) events.push(event);
  return events;
}

describe('the event-stream parser', () => {
  it('reads events split anywhere across chunks, with comments and ids', async () => {
    const events = await parse(
      ': ping\n\nid: 1-0\nevent: sta',
      'tus\ndata: {"status":"queued"}\n',
      '\nid: 2-0\r\nevent: page\r\ndata: {"page":1}\r',
      '\n\r\n',
    );
    expect(events).toEqual([
      { id: '1-0', event: 'status', data: '{"status":"queued"}' },
      { id: '2-0', event: 'page', data: '{"page":1}' },
    ]);
  });

  it('joins data lines, defaults the type to message, and drops an event cut off at the end', async () => {
    expect(await parse('data: a\ndata: b\n\ndata: cut')).toEqual([{ id: undefined, event: 'message', data: 'a\nb' }]);
  });
});
