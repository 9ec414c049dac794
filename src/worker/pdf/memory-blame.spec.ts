import { culprit, QUIET_MS } from './memory-blame';

const MB = 1024 * 1024;

describe('culprit', () => {
  it('is the thread that reports holding the most', () => {
    const now = 10_000;
    const holdings = [
      { bytes: 80 * MB, at: now - 50, rssAt: 900 * MB },
      { bytes: 700 * MB, at: now - 20, rssAt: 950 * MB },
    ];
    expect(culprit(holdings, 1000 * MB, now)).toBe(1);
  });

  it('counts the growth since a quiet thread last reported as its own', () => {
    const now = 10_000;
    const holdings = [
      // A normal page, reporting on time, holding more than the other said it held.
      { bytes: 150 * MB, at: now - 40, rssAt: 1500 * MB },
      // Gone quiet at 20 MB while the process grew by a gigabyte.
      { bytes: 20 * MB, at: now - QUIET_MS - 1, rssAt: 500 * MB },
    ];
    expect(culprit(holdings, 1500 * MB, now)).toBe(1);
  });

  it('leaves a quiet thread alone when the process did not grow since it spoke', () => {
    const now = 10_000;
    const holdings = [
      { bytes: 600 * MB, at: now - 10, rssAt: 1200 * MB },
      { bytes: 30 * MB, at: now - 5 * QUIET_MS, rssAt: 1200 * MB },
    ];
    expect(culprit(holdings, 1200 * MB, now)).toBe(0);
  });

  it('is -1 with nothing running', () => {
    expect(culprit([], 1, 0)).toBe(-1);
  });
});
