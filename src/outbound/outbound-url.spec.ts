import type { LookupAddress } from 'node:dns';
import { OutboundUrlError, checkOutboundUrl, guardedLookup, isPublicAddress, parseOutboundUrl } from './outbound-url';

const strict = { allowPrivate: false, allowHttp: false };

/** A resolver that answers from a list, one answer per call: a name that changes its address. */
function resolver(...answers: string[][]) {
  let call = 0;
  return ((_host: string, _options: unknown, callback: (e: Error | null, a: LookupAddress[]) => void) => {
    const addresses = answers[Math.min(call++, answers.length - 1)];
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  }) as unknown as typeof import('node:dns').lookup;
}

const lookupOnce = (lookup: ReturnType<typeof guardedLookup>, host: string) =>
  new Promise<string>((resolve, reject) => lookup(host, {}, (error, address) => (error ? reject(error) : resolve(address as string))));

describe('outbound URLs', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.8',
    '172.16.3.4',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '100.64.0.1',
  ])('%s is not public', (address) => expect(isPublicAddress(address)).toBe(false));

  it.each(['93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => expect(isPublicAddress(address)).toBe(true));

  it('takes https, and http only where allowed', () => {
    expect(parseOutboundUrl('https://example.com/hook', strict).hostname).toBe('example.com');
    expect(() => parseOutboundUrl('http://example.com/hook', strict)).toThrow(OutboundUrlError);
    expect(parseOutboundUrl('http://example.com/hook', { ...strict, allowHttp: true }).protocol).toBe('http:');
    expect(() => parseOutboundUrl('https://user:pw@example.com/', strict)).toThrow('credentials');
    expect(() => parseOutboundUrl('not a url', strict)).toThrow(OutboundUrlError);
    // Node resolves no address literal through a lookup, so the parse itself refuses private ones.
    expect(() => parseOutboundUrl('https://127.0.0.1:8443/doc.pdf', strict, 'url')).toThrow('url host 127.0.0.1 resolves to 127.0.0.1');
    expect(() => parseOutboundUrl('https://[::ffff:10.0.0.1]/doc.pdf', strict)).toThrow(OutboundUrlError);
  });

  it('refuses literal private addresses without a lookup', async () => {
    await expect(checkOutboundUrl('https://[::1]/hook', strict)).rejects.toThrow(OutboundUrlError);
    await expect(checkOutboundUrl('https://192.168.0.10/hook', strict)).rejects.toThrow(OutboundUrlError);
    await expect(checkOutboundUrl('https://192.168.0.10/hook', { ...strict, allowPrivate: true })).resolves.toBeInstanceOf(URL);
  });

  it('connects only to an address it checked, so a name rebound to loopback after the upload check is refused', async () => {
    const lookup = guardedLookup(strict, resolver(['93.184.216.34'], ['127.0.0.1']));
    await expect(lookupOnce(lookup, 'hooks.example.com')).resolves.toBe('93.184.216.34');
    await expect(lookupOnce(lookup, 'hooks.example.com')).rejects.toThrow('private, loopback or link-local');
  });

  it('refuses a name when any of its addresses is private', async () => {
    const lookup = guardedLookup(strict, resolver(['93.184.216.34', '10.0.0.1']));
    await expect(lookupOnce(lookup, 'mixed.example.com')).rejects.toThrow(OutboundUrlError);
    await expect(lookupOnce(guardedLookup({ ...strict, allowPrivate: true }, resolver(['10.0.0.1'])), 'lan')).resolves.toBe('10.0.0.1');
  });
});
