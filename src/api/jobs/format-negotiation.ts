import { HttpStatus } from '@nestjs/common';
import type { Request } from 'express';
import { FORMAT_INFO, type ResultFormat } from '../../contract/formats';
import { ApiError } from '../errors/api-error';

/**
 * The format a request asks for: `?format=` when given, else the best match for `Accept`
 * (q-values honoured, `*\/*` or no header means the first, JSON). Nothing acceptable is
 * 406 `format_not_supported`, listing what is.
 */
export function negotiateFormat<F extends ResultFormat>(formats: readonly F[], query: string | undefined, req: Request): F {
  if (query !== undefined) {
    if ((formats as readonly string[]).includes(query)) return query as F;
    throw notSupported(formats, `"${query}" is not a format of this resource.`);
  }
  if (!req.headers.accept) return formats[0];
  const byType = new Map<string, F>();
  for (const format of formats) {
    for (const type of [FORMAT_INFO[format].mediaType, ...FORMAT_INFO[format].aliases]) byType.set(type, format);
  }
  const chosen = req.accepts([...byType.keys()]);
  if (!chosen) throw notSupported(formats, `Nothing here matches "Accept: ${req.headers.accept}".`);
  return byType.get(chosen)!;
}

function notSupported(formats: readonly ResultFormat[], reason: string) {
  const types = formats.map((f) => `${f} (${[FORMAT_INFO[f].mediaType, ...FORMAT_INFO[f].aliases].join(', ')})`).join('; ');
  return new ApiError(HttpStatus.NOT_ACCEPTABLE, 'format_not_supported', `${reason} Ask with ?format= or Accept for one of: ${types}.`);
}
