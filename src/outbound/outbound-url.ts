import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The rules for every URL a client gives the service to reach: `callbackUrl` (webhooks),
 * `url` (a PDF to fetch) and `outputUrl` (where the result goes). Without them, a client
 * could make the service talk to its own network: Redis, metadata endpoints, admin ports.
 */
export class OutboundUrlError extends Error {}

export interface OutboundPolicy {
  /** Let the service reach private, loopback and link-local addresses (tests, closed networks). */
  allowPrivate: boolean;
  allowHttp: boolean;
}

/** Only ordinary public unicast addresses; IPv4-mapped IPv6 addresses count as their IPv4 one. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return parsed.range() === 'unicast';
}

/**
 * The URL, if its form is acceptable (scheme, no credentials, no private address literal);
 * where a host name points is checked separately (checkOutboundUrl, guardedLookup).
 */
export function parseOutboundUrl(raw: string, policy: OutboundPolicy, field = 'callbackUrl'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundUrlError(`${field} "${raw.slice(0, 200)}" is not an absolute URL.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new OutboundUrlError(`${field} must use https${policy.allowHttp ? ' or http' : ''}.`);
  }
  if (url.username || url.password) throw new OutboundUrlError(`${field} must not carry credentials.`);
  if (raw.length > 2048) throw new OutboundUrlError(`${field} is longer than 2048 characters.`);
  // Node asks no resolver for an address literal, so guardedLookup never sees one: checked here.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host) && !policy.allowPrivate && !isPublicAddress(host)) throw refuse(field, host, host);
  return url;
}

function refuse(field: string, hostname: string, address: string) {
  return new OutboundUrlError(`${field} host ${hostname} resolves to ${address}, a private, loopback or link-local address.`);
}

/**
 * A `lookup` for http(s).request that refuses private addresses: the connection goes to the
 * address that was checked, so a name that resolves elsewhere the second time (DNS
 * rebinding) cannot slip through between a check and the request.
 */
export function guardedLookup(policy: OutboundPolicy, resolve: typeof dnsLookup = dnsLookup, field = 'callbackUrl'): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 4);
      const list = addresses as unknown as LookupAddress[];
      const bad = policy.allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (bad) return callback(refuse(field, hostname, bad.address), '', 4);
      if (!list.length) return callback(new OutboundUrlError(`${field} host ${hostname} has no address.`), '', 4);
      if (options.all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

/** Checks where the URL points now; throws OutboundUrlError for a refused or unresolvable host. */
export async function checkOutboundUrl(raw: string, policy: OutboundPolicy, field = 'callbackUrl'): Promise<URL> {
  const url = parseOutboundUrl(raw, policy, field);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) return url;
  const lookup = guardedLookup(policy, dnsLookup, field);
  await new Promise<void>((resolve, reject) =>
    lookup(host, { all: true }, (error) =>
      error
        ? reject(error instanceof OutboundUrlError ? error : new OutboundUrlError(`${field} host ${host} does not resolve.`))
        : resolve(),
    ),
  );
  return url;
}
