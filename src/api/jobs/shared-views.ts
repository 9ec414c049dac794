/** How long one build of a running job's view serves its pollers at most, for what changes without an event (deliveries, queue position, the estimate). */
export const SHARED_VIEW_MS = 1000;
// Running jobs whose view this process keeps, most recently built last.
const MAX_JOBS = 1024;

interface Entry<T> {
  at: number;
  value: Promise<T>;
}

/**
 * The view of a running job (or the queue's load, under one key), built once and shared by everyone who polls it within a second:
 * two thousand clients polling one job cost one set of Redis reads a second, not two thousand.
 * An entry goes as soon as its job changes (a page finishes, its status moves: `changed`, from
 * the events channel, and at once for a cancel made here), so what a poll shows lags only what
 * changes without an event, and by at most SHARED_VIEW_MS. A build that fails is not kept.
 */
export class SharedViews<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /** `build`'s answer for `id`, or the one built less than SHARED_VIEW_MS ago; `keep` says whether an answer may be shared. */
  get(id: string, build: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    const now = Date.now();
    const shared = this.entries.get(id);
    if (shared && now - shared.at < SHARED_VIEW_MS) return shared.value;
    const entry: Entry<T> = { at: now, value: build() };
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (this.entries.size > MAX_JOBS) this.entries.delete(this.entries.keys().next().value!);
    const drop = () => this.entries.get(id) === entry && this.entries.delete(id);
    entry.value.then((value) => keep(value) || drop(), drop);
    return entry.value;
  }

  /** Forgets every view: the next poll of each job builds its own. */
  clear() {
    this.entries.clear();
  }

  /** The job changed: the next poll builds its view afresh. */
  changed(id: string) {
    this.entries.delete(id);
  }
}
