import { LineReporter, Totals } from './progress';

describe('progress', () => {
  it('counts pages over files, a file not yet opened as one page, and a finished one as what it did', () => {
    const totals = new Totals(3);
    expect(totals.pagesTotal).toBe(3);
    totals.set('a.pdf', { status: 'processing', pagesDone: 2, pagesTotal: 4 });
    totals.set('b.pdf', { status: 'queued', pagesDone: 0, pagesTotal: null });
    expect([totals.pagesDone, totals.pagesTotal]).toEqual([2, 6]);
    totals.settle('b.pdf');
    totals.settle('c.pdf');
    expect([totals.pagesDone, totals.pagesTotal, totals.filesDone]).toEqual([2, 4, 2]);
  });

  it('gives pages per minute and the time left at that rate', () => {
    const totals = new Totals(1);
    const start = Date.now();
    expect(totals.eta(start)).toBe('--:--');
    totals.set('a.pdf', { status: 'processing', pagesDone: 10, pagesTotal: 40 });
    expect(totals.rate(start + 60_000)).toBeCloseTo(10, 0);
    expect(totals.eta(start + 60_000)).toMatch(/^(2:5\d|3:0\d)$/);
    totals.set('a.pdf', { status: 'processing', pagesDone: 10, pagesTotal: 7210 });
    expect(totals.eta(start + 60_000)).toMatch(/^1\d:\d\d:\d\d$/);
  });

  it('writes a line per change when not on a terminal, with the totals when a file ends', () => {
    const lines: string[] = [];
    const reporter = new LineReporter(new Totals(2), (line) => lines.push(line));
    const file = reporter.file('a.pdf');
    file.update({ status: 'queued', pagesDone: 0, pagesTotal: null });
    file.update({ status: 'queued', pagesDone: 0, pagesTotal: null });
    file.update({ status: 'processing', pagesDone: 1, pagesTotal: 2 });
    file.done('written out/a.pdf');
    reporter.skipped('b.pdf', 'its outputs exist');
    expect(lines[0]).toBe('a.pdf: queued');
    expect(lines[1]).toBe('a.pdf: processing, 1/2 pages');
    expect(lines[2]).toMatch(/^a\.pdf: written out\/a\.pdf \[1\/2 files, 1\/2 pages, (\d+|-) pages\/min, ETA [-\d:]+\]$/);
    expect(lines[3]).toMatch(/^b\.pdf: skipped, its outputs exist \[2\/2 files, 1\/1 pages/);
    expect(lines).toHaveLength(4);
  });
});
