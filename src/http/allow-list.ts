// Exceptions to the address policy, for tests on loopback and for deployments
// that must reach one internal service. OFF unless the caller passes entries.
//
// Entries are "host" or "host:port"; IPv6 hosts in brackets ("[::1]:8080").
// A host that is an IP address matches the address actually connected to
// (after DNS); a host that is a name matches the URL's host name, and then
// every address it resolves to is allowed. With a port, only that port
// matches (default ports 80/443 apply when the URL has none), so a test can
// allow its own server on 127.0.0.1:PORT while a redirect to 127.0.0.1 on any
// other port is still refused.

import { canonicalAddress, normaliseHostname } from "./address-policy.ts";

export type AllowAddressPredicate = (address: string, port: number, hostname: string) => boolean;

interface AllowEntry {
  /** Canonical address, or a normalised host name. */
  host: string;
  isAddress: boolean;
  port: number | undefined;
}

export interface AllowList {
  /** May the connection to `address` (resolved from `hostname`) on `port` bypass the policy? */
  allowsAddress(address: string, port: number, hostname: string): boolean;
  /** May `hostname` bypass the name-based refusals (localhost, metadata names...)? */
  allowsName(hostname: string, port: number): boolean;
}

export function parseAllowEntry(entry: string): AllowEntry {
  const text = entry.trim();
  let host = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed !== null) {
    host = bracketed[1] ?? "";
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else {
    const colons = text.split(":").length - 1;
    if (colons === 1) {
      const at = text.lastIndexOf(":");
      host = text.slice(0, at);
      port = Number(text.slice(at + 1));
    }
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new TypeError(`allowHosts entry "${entry}" has an invalid port`);
  }
  const canonical = canonicalAddress(host);
  if (canonical !== null) return { host: canonical, isAddress: true, port };
  const name = normaliseHostname(host);
  if (name === "") throw new TypeError(`allowHosts entry "${entry}" has no host`);
  return { host: name, isAddress: false, port };
}

export function createAllowList(entries: readonly string[] = [], predicate?: AllowAddressPredicate): AllowList {
  const parsed = entries.map(parseAllowEntry);
  const portMatches = (entry: AllowEntry, port: number): boolean => entry.port === undefined || entry.port === port;
  return {
    allowsAddress(address, port, hostname) {
      if (predicate?.(address, port, hostname) === true) return true;
      const canonical = canonicalAddress(address);
      const name = normaliseHostname(hostname);
      return parsed.some((entry) => portMatches(entry, port) && (entry.isAddress ? entry.host === canonical : entry.host === name));
    },
    allowsName(hostname, port) {
      const name = normaliseHostname(hostname);
      return parsed.some((entry) => !entry.isAddress && portMatches(entry, port) && entry.host === name);
    },
  };
}
