import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { loadConfig } from '../../config/config';
import { ApiError } from '../errors/api-error';
import { StreamLimits } from './stream-limits.service';

const request = (ip: string) => ({ ip, socket: {} }) as unknown as Request;
const response = () => new EventEmitter() as unknown as Response;

describe('StreamLimits', () => {
  const limits = new StreamLimits(loadConfig({ MAX_STREAMS_PER_KEY: '2', MAX_STREAMS_PER_ADDRESS: '3' }));
  const code = (call: () => void) => {
    try {
      call();
      return 'held';
    } catch (error) {
      return error instanceof ApiError ? `${error.getStatus()} ${error.code} ${error.retryAfter}` : String(error);
    }
  };

  it('refuses past either limit, and frees a place when a response closes', () => {
    const first = response();
    expect(code(() => limits.hold('a', request('10.0.0.1'), first))).toBe('held');
    expect(code(() => limits.hold('a', request('10.0.0.2'), response()))).toBe('held');
    expect(code(() => limits.hold('a', request('10.0.0.3'), response()))).toBe('429 too_many_streams 10');
    // The address: one more from 10.0.0.1 under another key, then full at three.
    expect(code(() => limits.hold('b', request('10.0.0.1'), response()))).toBe('held');
    expect(code(() => limits.hold(null, request('10.0.0.1'), response()))).toBe('held');
    expect(code(() => limits.hold('c', request('10.0.0.1'), response()))).toBe('429 too_many_streams 10');
    first.emit('close');
    expect(code(() => limits.hold('a', request('10.0.0.4'), response()))).toBe('held');
  });
});
