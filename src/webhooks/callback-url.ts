import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export class CallbackUrlError extends Error {}

export interface CallbackPolicy {
  /** Let callbacks reach private, loopback and link-local addresses (tests, closed networks). */
  allowPrivate: boolean;
  allowHttp: boolean;
}

/** Only ordinary public unicast addresses; IPv4-mapped IPv6 addresses count as their IPv4 one. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return parsed.range() === 'unicast';
}

/** The URL, if its form is acceptable (scheme, no credentials); where it points is checked separately. */
export function parseCallbackUrl(raw: string, policy: CallbackPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CallbackUrlError(`"${raw.slice(0, 200)}" is not an absolute URL.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new CallbackUrlError(`callbackUrl must use https${policy.allowHttp ? ' or http' : ''}.`);
  }
  if (url.username || url.password) throw new CallbackUrlError('callbackUrl must not carry credentials.');
  if (raw.length > 2048) throw new CallbackUrlError('callbackUrl is longer than 2048 characters.');
  return url;
}

function refuse(hostname: string, address: string) {
  return new CallbackUrlError(`callbackUrl host ${hostname} resolves to ${address}, a private, loopback or link-local address.`);
}

/**
 * A `lookup` for http(s).request that refuses private addresses: the connection goes to the
 * address that was checked, so a name that resolves elsewhere the second time (DNS
 * rebinding) cannot slip through between a check and the request.
 */
export function guardedLookup(policy: CallbackPolicy, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 4);
      const list = addresses as unknown as LookupAddress[];
      const bad = policy.allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (bad) return callback(refuse(hostname, bad.address), '', 4);
      if (!list.length) return callback(new CallbackUrlError(`callbackUrl host ${hostname} has no address.`), '', 4);
      if (options.all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

/** Checks where the URL points now; throws CallbackUrlError for a refused or unresolvable host. */
export async function checkCallbackUrl(raw: string, policy: CallbackPolicy): Promise<URL> {
  const url = parseCallbackUrl(raw, policy);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) {
    if (!policy.allowPrivate && !isPublicAddress(host)) throw refuse(host, host);
    return url;
  }
  const lookup = guardedLookup(policy);
  await new Promise<void>((resolve, reject) =>
    lookup(host, { all: true }, (error) =>
      error
        ? reject(error instanceof CallbackUrlError ? error : new CallbackUrlError(`callbackUrl host ${host} does not resolve.`))
        : resolve(),
    ),
  );
  return url;
}
