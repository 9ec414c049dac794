import { readEvents } from './live';

/** A response body that arrives in the given pieces, as a network delivers it. */
function body(...chunks: string[]) {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function events(...chunks: string[]) {
  const seen: { event: string; data: string; id: string | null }[] = [];
  await readEvents(body(...chunks), (e) => seen.push(e));
  return seen;
}

describe('readEvents (the page reads Server-Sent Events through fetch)', () => {
  it('dispatches named events with their id and data, carrying the last id on', async () => {
    expect(await events('event: status\nid: 1\ndata: {"status":"processing"}\n\n', 'event: page\ndata: {"page":2}\n\n')).toEqual([
      { event: 'status', id: '1', data: '{"status":"processing"}' },
      { event: 'page', id: '1', data: '{"page":2}' },
    ]);
  });

  it('reassembles events split across chunks, lines and multi-byte characters', async () => {
    const text = 'data: Straße\n\n';
    const bytes = new TextEncoder().encode(text);
    const cut = new TextEncoder().encode('data: Stra').length + 1; // between the two bytes of ß
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, cut));
        controller.enqueue(bytes.subarray(cut));
        controller.close();
      },
    });
    const seen: string[] = [];
    await readEvents(stream, (e) => seen.push(e.data));
    expect(seen).toEqual(['Straße']);
    expect(await events('da', 'ta: a\r\nda', 'ta: b\r', '\n\r\n')).toEqual([{ event: 'message', id: null, data: 'a\nb' }]);
    // CRLF split between chunks is one line end, not two (which would end the event early).
    expect(await events('data: a\r', '\ndata: b\r', '\n\r', '\n')).toEqual([{ event: 'message', id: null, data: 'a\nb' }]);
  });

  it('skips comments (keep-alives) and events without data', async () => {
    expect(await events(': keep-alive\n\n', 'event: ping\n\n', 'data\n\n')).toEqual([{ event: 'message', id: null, data: '' }]);
  });
});
