/**
 * Which network addresses a reference import may reach on its own. A page or a redirect must not
 * turn Onbrand into a probe of the user's own machine or network (a router's admin page, a cloud
 * metadata service, a NAS), so what they lead to must be a public address, unless it is the host
 * the user typed. The check is made on the address actually connected to, not on the name.
 */
import dns from 'node:dns';
import net from 'node:net';
import { OnbrandError } from '../api/index.js';

/** Ranges that are not the public internet, each with the words a user reads in a refusal. */
const INTERNAL: readonly [subnet: string, prefix: number, family: 'ipv4' | 'ipv6', what: string][] = [
  ['0.0.0.0', 8, 'ipv4', '"this network", 0.0.0.0/8'],
  ['10.0.0.0', 8, 'ipv4', 'private network 10.0.0.0/8'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT 100.64.0.0/10'],
  ['127.0.0.0', 8, 'ipv4', 'loopback, this computer'],
  ['169.254.0.0', 16, 'ipv4', 'link-local 169.254.0.0/16, where cloud metadata services live'],
  ['172.16.0.0', 12, 'ipv4', 'private network 172.16.0.0/12'],
  ['192.168.0.0', 16, 'ipv4', 'private network 192.168.0.0/16'],
  ['224.0.0.0', 3, 'ipv4', 'multicast or reserved'],
  ['::', 128, 'ipv6', 'unspecified address ::'],
  ['::1', 128, 'ipv6', 'loopback, this computer'],
  ['fe80::', 10, 'ipv6', 'link-local fe80::/10'],
  ['fc00::', 7, 'ipv6', 'private network fc00::/7'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const lists = INTERNAL.map(([subnet, prefix, family, what]) => {
  const list = new net.BlockList();
  list.addSubnet(subnet, prefix, family);
  return { list, what };
});

/**
 * Why `address` is not public ("loopback, this computer"), or null for a public address.
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is judged by its IPv4 address.
 */
export function internalRange(address: string): string | null {
  const family = net.isIP(address);
  if (family === 0) return null;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { list, what } of lists) if (list.check(address, type)) return what;
  return null;
}

/** A URL's host without IPv6 brackets, lower case. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/** A connection to an internal address that nobody typed. */
export class RefusedAddressError extends OnbrandError {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(
      'unauthorized',
      host === address ? `${address} is an internal address (${range})` : `${host} resolves to an internal address ${address} (${range})`,
    );
    this.name = 'RefusedAddressError';
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that resolves like the system does and then refuses a name with any
 * internal address among its answers. Used as the socket's own lookup, so the address checked is
 * the address connected to (a second, different DNS answer cannot slip in between).
 */
export function publicOnlyLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    for (const { address } of addresses) {
      const range = internalRange(address);
      if (range) return callback(new RefusedAddressError(hostname, address, range), []);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}

/**
 * A `lookup` for a host the user typed by name: it may be internal (a NAS), but whether it is
 * is settled by its first answer, kept in `seen`. A name first answered with public addresses is
 * then held to public addresses: a short-lived DNS answer cannot turn it into 127.0.0.1 for a
 * redirect or the page's image (DNS rebinding).
 */
export function typedHostLookup(seen: Map<string, boolean>) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    const key = hostname.toLowerCase();
    if (seen.get(key) === false) return publicOnlyLookup(hostname, options, callback);
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const internal = addresses.some(({ address }) => internalRange(address) !== null);
      if (!seen.has(key)) seen.set(key, internal);
      else if (!seen.get(key) && internal) {
        const bad = addresses.find(({ address }) => internalRange(address) !== null)!;
        return callback(new RefusedAddressError(hostname, bad.address, internalRange(bad.address)!), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
