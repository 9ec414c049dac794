import { createHash } from 'node:crypto';
import { OcrKeys } from './queue-redis';

describe('OcrKeys', () => {
  // Running deployments hold records under these names: a rename would orphan them.
  it('names every record as the versions before it did', () => {
    const keys = new OcrKeys('bull');
    const id = '0b9f3c1e-3f4a-4c1b-9a57-6f0e2d1c8b7a';
    expect(keys.events(id)).toBe(`bull:ocr:events:${id}`);
    expect(keys.eventsChannel()).toBe('bull:ocr:events');
    expect(keys.webhook(id)).toBe(`bull:ocr:webhook:${id}`);
    expect(keys.output(id)).toBe(`bull:ocr:output:${id}`);
    expect(keys.cancelled(id)).toBe(`bull:ocr:cancelled:${id}`);
    expect(keys.workers()).toBe('bull:ocr:workers');
    expect(keys.worker('host-1-ab')).toBe('bull:ocr:worker:host-1-ab');
    expect(keys.inFlight('k1')).toBe('bull:ocr:inflight:k1');
    const digest = createHash('sha256').update('order-1').digest('hex');
    expect(keys.idempotency('k1', 'order-1')).toBe(`bull:ocr:idempotency:k1:${digest}`);
    expect(keys.idempotency(null, 'order-1')).toBe(`bull:ocr:idempotency:open:${digest}`);
    expect(keys.ofDocument(id)).toEqual([keys.events(id), keys.webhook(id), keys.output(id), keys.pages(id)]);
  });
});
