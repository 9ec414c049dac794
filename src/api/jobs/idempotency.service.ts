import { HttpStatus, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AppConfig } from '../../config/config';
import { redisOf } from '../../config/redis';
import { type DocumentsQueue, InjectDocumentsQueue } from '../../contract/queues';
import { ApiError } from '../errors/api-error';

export interface Claim {
  jobId: string;
  /** SHA-256 of the uploaded file, hex. */
  file: string;
  at: number;
}

/**
 * Idempotency-Key: per API key, the first request with a key claims it for its job (SET NX),
 * so duplicates, even concurrent ones, find that job instead of making another.
 */
@Injectable()
export class IdempotencyKeys {
  constructor(
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    private readonly config: AppConfig,
  ) {}

  static validate(key: string) {
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'invalid_option', 'Idempotency-Key must be 1 to 255 visible ASCII characters.');
    }
  }

  async find(owner: string | null, key: string): Promise<Claim | null> {
    const raw = await (await redisOf(this.documents)).get(this.redisKey(owner, key));
    return raw ? (JSON.parse(raw) as Claim) : null;
  }

  /** True if this request now owns the key; false if another claimed it first. */
  async claim(owner: string | null, key: string, claim: Claim, ttlSeconds: number): Promise<boolean> {
    return (await (await redisOf(this.documents)).set(this.redisKey(owner, key), JSON.stringify(claim), 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async release(owner: string | null, key: string, jobId: string) {
    const client = await redisOf(this.documents);
    const current = await this.find(owner, key);
    if (current?.jobId === jobId) await client.del(this.redisKey(owner, key));
  }

  private redisKey(owner: string | null, key: string) {
    // Hashed: keys are the client's text, and a key digest already scopes them per API key.
    return `${this.config.queuePrefix}:ocr:idempotency:${owner ?? 'open'}:${createHash('sha256').update(key).digest('hex')}`;
  }
}
