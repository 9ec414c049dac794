/**
 * The jobs submitted from this browser: ids and file names only, in localStorage, so the list
 * survives a reload. Their status is always read from the API (with the key of the moment).
 */
export interface Remembered {
  id: string;
  name: string;
  size: number;
  createdAt: string;
}

const STORAGE = 'ocr.jobs';
const KEEP = 30;

export function rememberedJobs(): Remembered[] {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE) ?? '[]') as unknown;
    return Array.isArray(value) ? (value as Remembered[]).filter((j) => typeof j?.id === 'string') : [];
  } catch {
    return [];
  }
}

function save(jobs: Remembered[]) {
  localStorage.setItem(STORAGE, JSON.stringify(jobs.slice(0, KEEP)));
}

export function remember(job: Remembered) {
  save([job, ...rememberedJobs().filter((j) => j.id !== job.id)]);
}

export function forget(id: string) {
  save(rememberedJobs().filter((j) => j.id !== id));
}
