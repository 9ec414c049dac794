import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';

/** Codes for errors that Nest or multer raise without one of ours. */
function codeFor(status: number, message: string): string {
  if (status === HttpStatus.PAYLOAD_TOO_LARGE) return 'file_too_large';
  if (status === HttpStatus.NOT_FOUND) return 'not_found';
  // Multer's complaints (a part named other than "file", a malformed form) mean no usable file.
  if (status === HttpStatus.BAD_REQUEST && /field|multipart|form|boundary|file/i.test(message)) return 'file_missing';
  return (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z]+/g, '_');
}

/** Every error leaves as { statusCode, error, code, message }; no stack trace ever does. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost) {
    const res = host.switchToHttp().getResponse<Response>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let code = 'internal_error';
    let message = 'An unexpected error occurred.';
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const fields = typeof body === 'object' && body !== null ? (body as { code?: string; message?: string | string[] }) : {};
      message = Array.isArray(fields.message) ? fields.message.join('; ') : (fields.message ?? exception.message);
      code = fields.code ?? codeFor(status, message);
    } else {
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    }
    if (res.headersSent) return;
    // Redis is usually back within seconds; tell clients when to try again.
    const retryAfter = (exception as { retryAfter?: number }).retryAfter;
    if (retryAfter) res.setHeader('Retry-After', String(retryAfter));
    else if (status === HttpStatus.SERVICE_UNAVAILABLE) res.setHeader('Retry-After', '5');
    res.status(status).json({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message });
  }
}
