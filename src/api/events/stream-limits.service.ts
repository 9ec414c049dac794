import { HttpStatus, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppConfig } from '../../config/config';
import { ApiError } from '../errors/api-error';

// A stream lasts as long as its job; a client refused should not hammer the API meanwhile.
const RETRY_AFTER_SECONDS = 10;

/**
 * Live connections (event streams, long polls) per API key and per client address. Counted in
 * this process: with several API replicas behind a balancer a client may hold up to the limit
 * on each (README, "Limits in force"), and a count dies with its process instead of leaking.
 */
@Injectable()
export class StreamLimits {
  private readonly open = new Map<string, number>();

  constructor(private readonly config: AppConfig) {}

  /** Counts the request as a live stream until its response closes (ended or abandoned), or refuses it. */
  hold(owner: string | null, req: Request, res: Response) {
    const { perKey, perAddress } = this.config.streamLimits;
    const counted: string[] = [];
    if (owner && perKey) counted.push(`key:${owner}`);
    if (perAddress) counted.push(`address:${req.ip ?? req.socket.remoteAddress}`);
    const full = counted.find((name) => (this.open.get(name) ?? 0) >= (name.startsWith('key:') ? perKey : perAddress));
    if (full) {
      throw new ApiError(
        HttpStatus.TOO_MANY_REQUESTS,
        'too_many_streams',
        `Too many live streams and long polls open ${full.startsWith('key:') ? `for this API key (${perKey}, MAX_STREAMS_PER_KEY)` : `from this address (${perAddress}, MAX_STREAMS_PER_ADDRESS)`}; close one, or poll without wait.`,
        RETRY_AFTER_SECONDS,
      );
    }
    for (const name of counted) this.open.set(name, (this.open.get(name) ?? 0) + 1);
    res.once('close', () => {
      for (const name of counted) {
        const left = (this.open.get(name) ?? 1) - 1;
        if (left > 0) this.open.set(name, left);
        else this.open.delete(name);
      }
    });
  }
}
