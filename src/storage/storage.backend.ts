import type { Readable } from 'node:stream';

/** The folders of the keys the server makes; nothing else of a bucket is the service's. */
export const STORAGE_FOLDERS = ['uploads/', 'pages/', 'results/', 'images/'] as const;

/** A stored object as a stream, with what an HTTP answer needs to describe it. */
export interface StoredObject {
  body: Readable;
  size: number;
  modifiedMs: number;
}

/**
 * Where documents live, behind keys the server makes ("uploads/<id>.pdf"): a local folder
 * (one host) or an S3-compatible bucket (several). `remove` takes a key or a prefix ending
 * in "/", so one call clears a document's folder of page results.
 */
export interface StorageBackend {
  readonly kind: 'local' | 's3';
  /** Creates what the backend needs (folders; checks that the bucket answers). */
  init(): Promise<void>;
  put(key: string, body: Buffer | string): Promise<void>;
  /** Streams a local file into `key` without holding it in memory. */
  putFile(key: string, path: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  get(key: string): Promise<Buffer | null>;
  open(key: string): Promise<StoredObject | null>;
  /** Copies `key` into the local file `path`; false when there is no such object. */
  download(key: string, path: string): Promise<boolean>;
  remove(keyOrPrefix: string): Promise<void>;
  /** Keys under `prefix` with when they were last written. */
  list(prefix: string): Promise<{ key: string; modifiedMs: number }[]>;
}
