import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppConfig } from '../../config/config';
import { ApiError } from '../errors/api-error';
import { isJson, JSON_LIMIT, jsonTooLarge } from './json-request';

/**
 * Refuses an upload whose declared length is already over the limit, before a byte of
 * it is read. Chunked uploads without a length are cut off by multer's fileSize limit.
 */
@Injectable()
export class UploadSizeGuard implements CanActivate {
  // Room for the multipart boundaries and the small form fields.
  private static readonly FORM_OVERHEAD = 64 * 1024;

  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const { headers } = context.switchToHttp().getRequest<Request>();
    const declared = Number(headers['content-length']);
    // A JSON body has a limit of its own, far below the file's.
    if (isJson(headers['content-type'])) {
      if (declared > JSON_LIMIT) throw jsonTooLarge();
      return true;
    }
    if (declared > this.config.maxUploadBytes + UploadSizeGuard.FORM_OVERHEAD) throw tooLarge(this.config.maxUploadBytes);
    return true;
  }
}

export const tooLarge = (limit: number) =>
  new ApiError(HttpStatus.PAYLOAD_TOO_LARGE, 'file_too_large', `The file is larger than the limit of ${limit} bytes (MAX_UPLOAD_BYTES).`);
