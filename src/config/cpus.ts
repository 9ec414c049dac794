import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * CPUs this process may really use: the cores it sees, lowered to the container's CPU quota
 * (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us`), which Node's count ignores. A 2-CPU
 * container on a 16-core host would otherwise start 16 engines that share 2 CPUs.
 */
export function usableCpus(read: (path: string) => string | null = readOrNull, cores = availableParallelism()): number {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  const v1 = [read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'), read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')].map((s) => s?.trim());
  const [quota, period] = v2 && v2[0] !== 'max' ? v2.map(Number) : v1[0] && v1[0] !== '-1' ? v1.map(Number) : [NaN, NaN];
  if (!(quota > 0 && period > 0)) return cores;
  return Math.max(1, Math.min(cores, Math.floor(quota / period)));
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
