import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

type Read = (path: string) => string | null;

const readOrNull: Read = (path) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
};

/**
 * The CPUs this process may use: the cores it sees, within the container's CPU quota
 * (cgroup v2 `cpu.max`, or v1 `cfs_quota_us`/`cfs_period_us`). A container limited to
 * two CPUs on a 32-core host should run two OCR threads, not 32.
 */
export function usableCpus(read: Read = readOrNull, cores = availableParallelism()): number {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.split(/\s+/);
  let quota = v2 && v2[0] !== 'max' ? Number(v2[0]) / Number(v2[1]) : NaN;
  if (!v2) {
    const us = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
    const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
    if (us > 0 && period > 0) quota = us / period;
  }
  return Number.isFinite(quota) && quota > 0 ? Math.max(1, Math.min(cores, Math.ceil(quota))) : cores;
}

/** The container's memory limit in MiB (cgroup v2 `memory.max` or v1 `limit_in_bytes`), or null without one. */
export function memoryLimitMb(read: Read = readOrNull): number | null {
  const raw = read('/sys/fs/cgroup/memory.max') ?? read('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  const bytes = Number(raw);
  // cgroup v1 writes "no limit" as a number near 2^63.
  return raw && raw !== 'max' && Number.isFinite(bytes) && bytes < 2 ** 50 ? Math.floor(bytes / 1024 / 1024) : null;
}
