/**
 * What each worker can read, published to Redis at start-up and refreshed while it runs,
 * so that the API (which has no models of its own) validates `languages` against the live
 * workers. An entry expires when its worker stops refreshing it.
 */
export interface WorkerCapabilities {
  /** Unique per process: host name, process id and a random suffix (pids repeat across containers). */
  id: string;
  hostname: string;
  /** Language codes this worker has a model for. */
  languages: string[];
  /** `fast`: Debian's tessdata_fast; `best_int`: the @tesseract.js-data npm packages. */
  models: Record<string, 'fast' | 'best_int'>;
  /** Whether it detects the orientation of sideways and upside-down pages (Tesseract OSD). */
  osd: boolean;
  /** Pages it processes at once. */
  concurrency: number;
  startedAt: string;
}
