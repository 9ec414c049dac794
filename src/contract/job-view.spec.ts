import type { Job } from 'bullmq';
import { cancelledView, expiryOf, jobView, statusOf } from './job-view';

const job = (fields: Partial<Job>) => ({ id: 'j1', timestamp: 1_700_000_000_000, data: {}, ...fields }) as Job;

describe('job status', () => {
  it.each([
    ['waiting', {}, 'queued'],
    ['waiting', { processedOn: 1 }, 'processing'],
    ['delayed', { processedOn: 1 }, 'processing'],
    ['active', {}, 'processing'],
    ['waiting-children', { processedOn: 1 }, 'processing'],
    ['completed', {}, 'completed'],
    ['failed', { failedReason: 'pdf_invalid: broken' }, 'failed'],
    ['failed', { failedReason: 'cancelled: The job was cancelled.' }, 'cancelled'],
  ])('%s %j is %s', (state, fields, status) => {
    expect(statusOf(job(fields as Partial<Job>), state)).toBe(status);
  });

  it('shows the error code of a failed job and ISO timestamps', () => {
    const view = jobView(
      job({ failedReason: 'too_many_pages: 900 pages', finishedOn: 1_700_000_001_000, data: { pagesTotal: 3 } }),
      'failed',
      1,
      null,
    );
    expect(view).toMatchObject({
      status: 'failed',
      createdAt: '2023-11-14T22:13:20.000Z',
      finishedAt: '2023-11-14T22:13:21.000Z',
      startedAt: null,
      progress: { pagesTotal: 3, pagesDone: 1 },
      error: { code: 'too_many_pages', message: '900 pages' },
    });
  });

  it('says when a finished or cancelled job goes, by the one rule the expiry enforces', () => {
    expect(expiryOf(1_700_000_001_000, 60)).toBe(1_700_000_061_000);
    expect(expiryOf(undefined, 60)).toBeNull();
    expect(expiryOf(1_700_000_001_000, null)).toBeNull();
    const done = jobView(job({ finishedOn: 1_700_000_001_000, data: { retention: 60 } }), 'completed', 1, null);
    expect(done).toMatchObject({ expiresAt: '2023-11-14T22:14:21.000Z', retention: 60 });
    expect(jobView(job({ data: { retention: 60 } }), 'active', 0, null).expiresAt).toBeNull();
    const record = { createdAt: 1, startedAt: null, cancelledAt: 1_700_000_001_000, pagesTotal: null, pagesDone: 0, retention: 60 };
    expect(cancelledView('j1', record).expiresAt).toBe('2023-11-14T22:14:21.000Z');
  });
});
