import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Settings } from '../config/config';
import { STORAGE_FOLDERS, type StorageBackend, type StoredObject } from './storage.backend';

const notFound = (error: unknown) => error instanceof NoSuchKey || (error as { name?: string }).name === 'NotFound';

/**
 * An S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Ceph RGW), so that the API and
 * workers on different hosts share nothing but Redis and the bucket. Credentials come from
 * the SDK's usual chain (AWS_ACCESS_KEY_ID..., AWS_PROFILE, web identity, instance roles).
 */
export class S3Backend implements StorageBackend {
  readonly kind = 's3' as const;
  private readonly client: S3Client;

  constructor(
    private readonly settings: S3Settings,
    clientConfig: S3ClientConfig = {},
  ) {
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      ...clientConfig,
    });
  }

  private key(key: string) {
    return this.settings.prefix ? `${this.settings.prefix}/${key}` : key;
  }

  async init() {
    await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }));
  }

  async put(key: string, body: Buffer | string) {
    await this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: this.key(key), Body: body }));
  }

  async putFile(key: string, path: string) {
    // lib-storage sends large files in parts, reading the file as it goes.
    await new Upload({
      client: this.client,
      params: { Bucket: this.settings.bucket, Key: this.key(key), Body: createReadStream(path) },
    }).done();
    await rm(path, { force: true });
  }

  async exists(key: string) {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.key(key) }));
      return true;
    } catch (error) {
      if (notFound(error)) return false;
      throw error;
    }
  }

  async get(key: string) {
    const object = await this.open(key);
    if (!object) return null;
    const chunks: Buffer[] = [];
    for await (const chunk of object.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async open(key: string): Promise<StoredObject | null> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.key(key) }));
      return {
        body: answer.Body as Readable,
        size: answer.ContentLength ?? 0,
        modifiedMs: answer.LastModified?.getTime() ?? Date.now(),
      };
    } catch (error) {
      if (notFound(error)) return null;
      throw error;
    }
  }

  async download(key: string, path: string) {
    const object = await this.open(key);
    if (!object) return false;
    await pipeline(object.body, createWriteStream(path));
    return true;
  }

  async remove(keyOrPrefix: string) {
    const keys = keyOrPrefix.endsWith('/') ? (await this.list(keyOrPrefix)).map((o) => o.key) : [keyOrPrefix];
    // DeleteObjects takes at most 1000 keys a call; a missing key is not an error.
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((k) => ({ Key: this.key(k) }));
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.settings.bucket, Delete: { Objects: batch, Quiet: true } }));
    }
  }

  async list(prefix: string) {
    const listed: { key: string; modifiedMs: number }[] = [];
    const strip = this.settings.prefix ? this.settings.prefix.length + 1 : 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: this.key(prefix), ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) listed.push({ key: object.Key.slice(strip), modifiedMs: object.LastModified?.getTime() ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return listed;
  }

  /**
   * A client's object named by its full key in the bucket (not under this service's prefix):
   * its size, ETag and first bytes, or null when there is none.
   */
  async describeInput(bucketKey: string, headBytes: number): Promise<InputObject | null> {
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: bucketKey, Range: `bytes=0-${headBytes - 1}` }),
      );
      const head = Buffer.from(await answer.Body!.transformToByteArray());
      // A ranged answer gives the whole size after the "/" of Content-Range; an empty object has none.
      const size = Number(/\/(\d+)$/.exec(answer.ContentRange ?? '')?.[1] ?? answer.ContentLength ?? 0);
      return { size, etag: answer.ETag ?? '', head };
    } catch (error) {
      if (notFound(error) || (error as { name?: string }).name === 'InvalidRange') {
        return notFound(error) ? null : { size: 0, etag: '', head: Buffer.alloc(0) };
      }
      throw error;
    }
  }

  /** Copies a client's object into `key`, inside the bucket: nothing passes through this process. */
  async copyInput(bucketKey: string, key: string) {
    const source = `${this.settings.bucket}/${bucketKey.split('/').map(encodeURIComponent).join('/')}`;
    await this.client.send(new CopyObjectCommand({ Bucket: this.settings.bucket, Key: this.key(key), CopySource: source }));
  }

  /** Whether a full key of the bucket is one of this service's own (under its prefix, or its folders when it has none). */
  isOwnKey(bucketKey: string) {
    if (this.settings.prefix) return bucketKey.startsWith(`${this.settings.prefix}/`);
    return STORAGE_FOLDERS.some((folder) => bucketKey.startsWith(folder));
  }

  destroy() {
    this.client.destroy();
  }
}

/** What describeInput finds. */
export interface InputObject {
  size: number;
  etag: string;
  head: Buffer;
}
