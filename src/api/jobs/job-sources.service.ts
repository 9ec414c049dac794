import { HttpStatus, Injectable } from '@nestjs/common';
import { open, rm } from 'node:fs/promises';
import { AppConfig } from '../../config/config';
import { SIGNATURE_WINDOW } from '../../contract/inputs';
import { ApiError } from '../errors/api-error';
import { downloadToFile, SourceTooLargeError, SourceUnavailableError } from '../../outbound/download';
import { checkOutboundUrl, OutboundUrlError } from '../../outbound/outbound-url';
import { S3Backend } from '../../storage/s3.backend';
import { StorageService } from '../../storage/storage.service';
import { tooLarge } from './upload-size.guard';

/** What a job reads: an uploaded file, or a `url` (https, or s3:// in the service's bucket). */
export type JobSource = { file: Express.Multer.File | undefined } | { url: string };

/** A source made ready: a local file, or an object of the bucket to copy. */
export type JobInput =
  | { kind: 'file'; path: string; size: number; fileName: string; head: Buffer }
  | { kind: 'object'; bucketKey: string; size: number; fileName: string; head: Buffer; etag: string };

const notAllowed = (message: string) => new ApiError(HttpStatus.BAD_REQUEST, 'url_not_allowed', message);
const unavailable = (message: string) => new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, 'url_unavailable', message);

/**
 * Turns what a client sent into the file (a PDF or an image) a job reads. A `url` is fetched here, by the API,
 * so that it is checked like an upload before the client hears 202 and workers need no
 * way out to the internet; an `s3://` key is never read through this process at all.
 */
@Injectable()
export class JobSources {
  constructor(
    private readonly config: AppConfig,
    private readonly storage: StorageService,
  ) {}

  async open(source: JobSource): Promise<JobInput> {
    if ('file' in source) {
      const { file } = source;
      if (!file) throw new ApiError(HttpStatus.BAD_REQUEST, 'file_missing', 'Send the file as a multipart/form-data part named "file".');
      return { kind: 'file', path: file.path, size: file.size, fileName: file.originalname, head: await headOf(file.path) };
    }
    return source.url.startsWith('s3://') ? this.describeObject(source.url) : this.fetch(source.url);
  }

  /** Deletes the local files of a request: the upload, and a fetched file once opened. */
  async release(source: JobSource, input: JobInput | undefined) {
    const paths = ['file' in source ? source.file?.path : undefined, input?.kind === 'file' ? input.path : undefined];
    await Promise.all(paths.map((path) => path && rm(path, { force: true })));
  }

  private async fetch(url: string): Promise<JobInput> {
    try {
      await checkOutboundUrl(url, this.config.webhooks, 'url');
      const download = await downloadToFile(url, {
        policy: this.config.webhooks,
        dir: this.storage.incomingDir,
        limit: this.config.maxUploadBytes,
        timeoutMs: this.config.sourceTimeoutMs,
      });
      return { kind: 'file', ...download, head: await headOf(download.path) };
    } catch (error) {
      if (error instanceof OutboundUrlError) throw notAllowed(error.message);
      if (error instanceof SourceTooLargeError) throw tooLarge(this.config.maxUploadBytes);
      if (error instanceof SourceUnavailableError) throw unavailable(error.message);
      throw error;
    }
  }

  /** s3://bucket/key: only the service's bucket, only under S3_INPUT_PREFIX, never the service's own keys. */
  private async describeObject(url: string): Promise<JobInput> {
    const backend = this.storage.backend;
    if (!(backend instanceof S3Backend) || !this.config.s3) {
      throw notAllowed('This server keeps documents in a folder, not a bucket (no STORAGE_URL): send an https URL or the file.');
    }
    const { bucket, inputPrefix } = this.config.s3;
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
    if (!match || match[1] !== bucket)
      throw notAllowed(`url must name an object of this server's bucket: s3://${bucket}/${inputPrefix}...`);
    const key = match[2];
    if (!key.startsWith(inputPrefix) || key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw notAllowed(`Only keys under s3://${bucket}/${inputPrefix} (S3_INPUT_PREFIX) can be read, without empty, "." or ".." parts.`);
    }
    if (backend.isOwnKey(key)) throw notAllowed("That key is one of this server's own files.");
    const object = await backend.describeInput(key, SIGNATURE_WINDOW);
    if (!object) throw unavailable(`There is no object s3://${bucket}/${key}.`);
    if (object.size > this.config.maxUploadBytes) throw tooLarge(this.config.maxUploadBytes);
    return { kind: 'object', bucketKey: key, fileName: key.split('/').pop()!, ...object };
  }
}

async function headOf(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(SIGNATURE_WINDOW);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
