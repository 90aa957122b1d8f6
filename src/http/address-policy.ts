// Which IP addresses and host names the worker may contact.
//
// Policy: only globally routable unicast addresses are allowed. Everything
// below is refused; each refusal carries a short label for error messages.
//
// IPv4 refused: 0.0.0.0/8 (unspecified / "this network"), 10/8, 172.16/12,
// 192.168/16 (private), 100.64/10 (CGNAT, also Alibaba metadata
// 100.100.100.200), 127/8 (loopback), 169.254/16 (link-local, AWS/GCP/Azure
// metadata 169.254.169.254, ECS 169.254.170.2), 192.0.0/24 (IETF protocol
// assignments), 192.88.99/24 (deprecated 6to4 relay), 198.18/15
// (benchmarking), 224/4 (multicast), 240/4 (reserved, incl. 255.255.255.255
// broadcast), 168.63.129.16 (Azure host endpoint, a public address used
// only inside Azure) and the documentation ranges 192.0.2/24, 198.51.100/24,
// 203.0.113/24.
//
// IPv6: only 2000::/3 (global unicast) is allowed, minus 2001::/23 (IETF
// special purpose: Teredo, benchmarking, ORCHID...), 2001:db8::/32 and
// 3fff::/20 (documentation), and 6to4 (2002::/16)
// whose embedded IPv4 address is refused. Outside 2000::/3 everything is
// refused (::, ::1, fc00::/7 ULA incl. fd00:ec2::254, fe80::/10, fec0::/10,
// ff00::/8, 100::/64, 64:ff9b:1::/48, 5f00::/16 SRv6...) except the IPv4 embeddings
// ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (SIIT), ::a.b.c.d (compatible)
// and 64:ff9b::a.b.c.d (NAT64 well-known prefix), which are judged by the
// embedded IPv4 address.
//
// Documentation ranges are refused: nothing legitimate is served there, so a
// DNS answer pointing at them is a misconfiguration or a probe.

import { isIP } from "node:net";

/** Returns the label of the refused class the address belongs to, or null when it is public. */
export function classifyAddress(address: string): string | null {
  const parsed = parseIp(address);
  if (parsed === null) return "not an IP address";
  return parsed.family === 4 ? classifyV4(parsed.bytes) : classifyV6(parsed.bytes);
}

export function isPublicAddress(address: string): boolean {
  return classifyAddress(address) === null;
}

/**
 * Names refused before any DNS lookup: cloud metadata names and the special
 * use / private-use suffixes that never resolve to public hosts (RFC 6761
 * localhost, mDNS .local, .internal, .home.arpa). Returns a label or null.
 */
export function classifyHostname(hostname: string): string | null {
  const name = normaliseHostname(hostname);
  if (METADATA_NAMES.has(name)) return "cloud metadata";
  if (name === "localhost" || name.endsWith(".localhost")) return "loopback";
  for (const suffix of PRIVATE_SUFFIXES) {
    if (name === suffix || name.endsWith(`.${suffix}`)) return `private-use name (.${suffix})`;
  }
  return null;
}

/** Lower-cases, strips IPv6 brackets and a trailing root dot. */
export function normaliseHostname(hostname: string): string {
  let name = hostname.toLowerCase();
  if (name.startsWith("[") && name.endsWith("]")) name = name.slice(1, -1);
  while (name.endsWith(".")) name = name.slice(0, -1);
  return name;
}

const METADATA_NAMES = new Set([
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
  "instance-data",
  "instance-data.ec2.internal",
]);
const PRIVATE_SUFFIXES = ["local", "internal", "home.arpa", "localdomain"];

export interface ParsedIp {
  family: 4 | 6;
  bytes: Uint8Array;
}

/** Parses a dotted-quad IPv4 or any textual IPv6 (zone id ignored) into bytes. */
export function parseIp(input: string): ParsedIp | null {
  let text = input;
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const zone = text.indexOf("%");
  if (zone !== -1) text = text.slice(0, zone);
  const family = isIP(text);
  if (family === 4) return { family: 4, bytes: parseV4(text) };
  if (family === 6) {
    const bytes = parseV6(text);
    return bytes === null ? null : { family: 6, bytes };
  }
  return null;
}

/** Canonical text of an address (for comparisons): IPv4 dotted, IPv6 fully expanded lower-case hex. */
export function canonicalAddress(input: string): string | null {
  const parsed = parseIp(input);
  if (parsed === null) return null;
  if (parsed.family === 4) return Array.from(parsed.bytes).join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((parsed.bytes[i] ?? 0) << 8) | (parsed.bytes[i + 1] ?? 0)).toString(16));
  return groups.join(":");
}

function parseV4(text: string): Uint8Array {
  return Uint8Array.from(text.split(".").map((part) => Number.parseInt(part, 10)));
}

function parseV6(text: string): Uint8Array | null {
  const bytes = new Uint8Array(16);
  let body = text;
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(":");
  const last = body.slice(lastColon + 1);
  if (last.includes(".")) {
    if (isIP(last) !== 4) return null;
    tail = Array.from(parseV4(last));
    body = `${body.slice(0, lastColon + 1)}0:0`;
    // "::1.2.3.4" becomes "::0:0"; fix the words up after expansion.
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const head = (halves[0] ?? "") === "" ? [] : (halves[0] ?? "").split(":");
  const rest = halves.length === 2 ? ((halves[1] ?? "") === "" ? [] : (halves[1] ?? "").split(":")) : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return null;
  const words = [...head, ...Array<string>(fill).fill("0"), ...rest];
  if (words.length !== 8) return null;
  words.forEach((word, i) => {
    const value = Number.parseInt(word, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return bytes;
}

interface Range {
  prefix: Uint8Array;
  bits: number;
  label: string;
}

function v4(cidr: string, label: string): Range {
  const [addr = "", bits = "32"] = cidr.split("/");
  return { prefix: parseV4(addr), bits: Number(bits), label };
}

function v6(cidr: string, label: string): Range {
  const [addr = "", bits = "128"] = cidr.split("/");
  const prefix = parseV6(addr);
  if (prefix === null) throw new Error(`bad range ${cidr}`);
  return { prefix, bits: Number(bits), label };
}

function inRange(bytes: Uint8Array, range: Range): boolean {
  let bits = range.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((range.prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

// Most specific entries first: the first match gives the label.
const V4_REFUSED: readonly Range[] = [
  v4("169.254.169.254/32", "cloud metadata"),
  v4("169.254.170.2/32", "cloud metadata"),
  v4("100.100.100.200/32", "cloud metadata"),
  v4("168.63.129.16/32", "cloud metadata"),
  v4("255.255.255.255/32", "broadcast"),
  v4("0.0.0.0/8", "unspecified"),
  v4("10.0.0.0/8", "private"),
  v4("100.64.0.0/10", "carrier-grade NAT"),
  v4("127.0.0.0/8", "loopback"),
  v4("169.254.0.0/16", "link-local"),
  v4("172.16.0.0/12", "private"),
  v4("192.0.0.0/24", "IETF protocol assignment"),
  v4("192.0.2.0/24", "documentation"),
  v4("192.88.99.0/24", "6to4 relay anycast"),
  v4("192.168.0.0/16", "private"),
  v4("198.18.0.0/15", "benchmarking"),
  v4("198.51.100.0/24", "documentation"),
  v4("203.0.113.0/24", "documentation"),
  v4("224.0.0.0/4", "multicast"),
  v4("240.0.0.0/4", "reserved"),
];

const V6_GLOBAL = v6("2000::/3", "global unicast");
// Checked before the IPv4 embeddings, which ::/96 would otherwise swallow.
const V6_UNSPECIFIED_LOOPBACK: readonly Range[] = [v6("::/128", "unspecified"), v6("::1/128", "loopback")];
const V6_REFUSED_OUTSIDE_GLOBAL: readonly Range[] = [
  v6("fd00:ec2::254/128", "cloud metadata"),
  v6("fc00::/7", "unique-local"),
  v6("fe80::/10", "link-local"),
  v6("fec0::/10", "site-local"),
  v6("ff00::/8", "multicast"),
  v6("100::/64", "discard-only"),
  v6("64:ff9b:1::/48", "local-use NAT64"),
];
const V6_REFUSED_GLOBAL: readonly Range[] = [
  v6("2001::/32", "Teredo"),
  v6("2001:db8::/32", "documentation"),
  v6("2001::/23", "IETF special purpose"),
  v6("3fff::/20", "documentation"),
];

interface Embedding {
  range: Range;
  /** Byte offset of the embedded IPv4 address. */
  at: number;
}
const V6_EMBEDDINGS: readonly Embedding[] = [
  { range: v6("::ffff:0:0/96", "IPv4-mapped"), at: 12 },
  { range: v6("::ffff:0:0:0/96", "IPv4-translated"), at: 12 },
  { range: v6("::/96", "IPv4-compatible"), at: 12 },
  { range: v6("64:ff9b::/96", "NAT64"), at: 12 },
  { range: v6("2002::/16", "6to4"), at: 2 },
];

function classifyV4(bytes: Uint8Array): string | null {
  for (const range of V4_REFUSED) if (inRange(bytes, range)) return `${range.label} (${formatRange(range)})`;
  return null;
}

function classifyV6(bytes: Uint8Array): string | null {
  for (const range of V6_UNSPECIFIED_LOOPBACK) if (inRange(bytes, range)) return range.label;
  for (const { range, at } of V6_EMBEDDINGS) {
    if (!inRange(bytes, range)) continue;
    const embedded = bytes.subarray(at, at + 4);
    const inner = classifyV4(embedded);
    return inner === null ? null : `${range.label} embedding of ${Array.from(embedded).join(".")}: ${inner}`;
  }
  if (!inRange(bytes, V6_GLOBAL)) {
    for (const range of V6_REFUSED_OUTSIDE_GLOBAL) if (inRange(bytes, range)) return `${range.label} (${formatRange(range)})`;
    return "reserved (not global unicast)";
  }
  for (const range of V6_REFUSED_GLOBAL) if (inRange(bytes, range)) return `${range.label} (${formatRange(range)})`;
  return null;
}

function formatRange(range: Range): string {
  if (range.prefix.length === 4) return `${Array.from(range.prefix).join(".")}/${range.bits}`;
  const text = canonicalAddress(
    Array.from({ length: 8 }, (_, i) => (((range.prefix[i * 2] ?? 0) << 8) | (range.prefix[i * 2 + 1] ?? 0)).toString(16)).join(":"),
  );
  return `${compressV6(text ?? "")}/${range.bits}`;
}

function compressV6(expanded: string): string {
  // Collapse the longest run of zero groups, as in RFC 5952.
  const groups = expanded.split(":");
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best === -1) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}
