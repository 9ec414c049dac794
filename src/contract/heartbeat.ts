import { statSync } from 'node:fs';

/**
 * The worker has no HTTP server to probe, so its health signal is a file it refreshes
 * (HEARTBEAT_FILE) while it can take jobs; the container healthcheck reads its age.
 * Three missed beats make it stale, so one slow Redis round trip is not an alarm.
 */
export const HEARTBEAT_INTERVAL_MS = 10_000;
export const HEARTBEAT_STALE_MS = 3 * HEARTBEAT_INTERVAL_MS;

/** Milliseconds since the heartbeat file was last written, or null when there is none. */
export function heartbeatAgeMs(file: string, now = Date.now()): number | null {
  try {
    return Math.max(0, now - statSync(file).mtimeMs);
  } catch {
    return null;
  }
}
