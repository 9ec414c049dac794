import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppConfig } from '../../config/config';
import { ApiError } from '../errors/api-error';

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
    const declared = Number(context.switchToHttp().getRequest<Request>().headers['content-length']);
    if (declared > this.config.maxUploadBytes + UploadSizeGuard.FORM_OVERHEAD) throw tooLarge(this.config.maxUploadBytes);
    return true;
  }
}

export const tooLarge = (limit: number) =>
  new ApiError(HttpStatus.PAYLOAD_TOO_LARGE, 'file_too_large', `The file is larger than the limit of ${limit} bytes (MAX_UPLOAD_BYTES).`);
