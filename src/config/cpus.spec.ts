import { usableCpus } from './cpus';

const files = (contents: Record<string, string>) => (path: string) => contents[path] ?? null;

describe('usableCpus', () => {
  it('takes the cgroup v2 quota, rounded down, never below one', () => {
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '200000 100000\n' }), 16)).toBe(2);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }), 16)).toBe(1);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '50000 100000\n' }), 16)).toBe(1);
  });

  it('takes the cgroup v1 quota', () => {
    const v1 = { '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' };
    expect(usableCpus(files(v1), 16)).toBe(3);
  });

  it('keeps the core count without a quota or when the quota is larger', () => {
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }), 4)).toBe(4);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n' }), 4)).toBe(4);
    expect(usableCpus(files({}), 4)).toBe(4);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '800000 100000\n' }), 4)).toBe(4);
  });
});
