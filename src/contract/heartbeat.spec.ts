import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heartbeatAgeMs, HEARTBEAT_STALE_MS } from './heartbeat';

describe('heartbeatAgeMs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heartbeat-'));
  const file = join(dir, 'beat');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is null without a heartbeat file', () => {
    expect(heartbeatAgeMs(join(dir, 'missing'))).toBeNull();
  });

  it('measures the time since the file was last written', () => {
    writeFileSync(file, 'now');
    expect(heartbeatAgeMs(file)).toBeLessThan(HEARTBEAT_STALE_MS);
    const old = new Date(Date.now() - HEARTBEAT_STALE_MS - 5000);
    utimesSync(file, old, old);
    expect(heartbeatAgeMs(file)).toBeGreaterThan(HEARTBEAT_STALE_MS);
  });
});
