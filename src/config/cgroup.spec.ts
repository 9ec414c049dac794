import { memoryLimitMb, usableCpus } from './cgroup';

const files = (entries: Record<string, string>) => (path: string) => entries[path] ?? null;

describe('usableCpus', () => {
  it('takes the cgroup v2 quota, rounded up, within the cores', () => {
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '200000 100000' }), 32)).toBe(2);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '150000 100000' }), 32)).toBe(2);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' }), 32)).toBe(1);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '800000 100000' }), 4)).toBe(4);
  });

  it('takes the cgroup v1 quota', () => {
    expect(
      usableCpus(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }), 16),
    ).toBe(3);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }), 16)).toBe(
      16,
    );
  });

  it('uses every core without a quota', () => {
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' }), 8)).toBe(8);
    expect(usableCpus(files({}), 8)).toBe(8);
  });
});

describe('memoryLimitMb', () => {
  it('reads cgroup v2 and v1 limits, and none', () => {
    expect(memoryLimitMb(files({ '/sys/fs/cgroup/memory.max': String(2 * 1024 ** 3) }))).toBe(2048);
    expect(memoryLimitMb(files({ '/sys/fs/cgroup/memory.max': 'max' }))).toBeNull();
    expect(memoryLimitMb(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': String(512 * 1024 ** 2) }))).toBe(512);
    expect(memoryLimitMb(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' }))).toBeNull();
    expect(memoryLimitMb(files({}))).toBeNull();
  });
});
