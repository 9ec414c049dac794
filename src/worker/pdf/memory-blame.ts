/**
 * Which running task to stop when the worker's resident memory passes its limit: the one
 * whose thread holds the most. Each thread reports what it holds (its JavaScript heap, its
 * buffers, the canvases it paints on) every REPORT_MS while it can; a thread that has gone
 * quiet is inside synchronous work (pdf.js lexing a decompressed stream, say), and the
 * process's growth since its last report is counted as its own, since a thread that still
 * reports would have shown any growth of its own.
 */

/** How often a thread reports what it holds. */
export const REPORT_MS = 100;
/** A report older than this means the thread is busy in synchronous code. */
export const QUIET_MS = 3 * REPORT_MS;

export interface Holding {
  /** Bytes the thread said it held in its last report; 0 before its first. */
  bytes: number;
  /** When that report came (ms, the caller's clock). */
  at: number;
  /** The process's resident memory then. */
  rssAt: number;
}

/** The index of the task to stop in `holdings`, or -1 when there is none. */
export function culprit(holdings: readonly Holding[], rss: number, now: number): number {
  let chosen = -1;
  let most = -Infinity;
  holdings.forEach((h, i) => {
    const held = now - h.at > QUIET_MS ? h.bytes + Math.max(0, rss - h.rssAt) : h.bytes;
    if (held > most) {
      most = held;
      chosen = i;
    }
  });
  return chosen;
}
