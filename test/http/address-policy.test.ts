import { describe, expect, it } from "vitest";
import { canonicalAddress, classifyAddress, classifyHostname } from "../../src/http/address-policy.ts";
import { createAllowList, parseAllowEntry } from "../../src/http/allow-list.ts";

describe("classifyAddress", () => {
  const refused: Array<[string, RegExp]> = [
    ["0.0.0.0", /unspecified/],
    ["0.1.2.3", /unspecified/],
    ["10.1.2.3", /private/],
    ["172.16.0.1", /private/],
    ["172.31.255.255", /private/],
    ["192.168.0.1", /private/],
    ["127.0.0.1", /loopback/],
    ["127.255.255.254", /loopback/],
    ["169.254.1.1", /link-local/],
    ["169.254.169.254", /cloud metadata/],
    ["169.254.170.2", /cloud metadata/],
    ["100.100.100.200", /cloud metadata/],
    ["168.63.129.16", /cloud metadata/],
    ["100.64.0.1", /carrier-grade NAT/],
    ["100.127.255.255", /carrier-grade NAT/],
    ["224.0.0.1", /multicast/],
    ["239.255.255.250", /multicast/],
    ["255.255.255.255", /broadcast/],
    ["240.0.0.1", /reserved/],
    ["198.18.0.1", /benchmarking/],
    ["198.19.255.255", /benchmarking/],
    ["192.0.0.170", /IETF/],
    ["192.0.2.1", /documentation/],
    ["198.51.100.7", /documentation/],
    ["203.0.113.9", /documentation/],
    ["::", /unspecified/],
    ["::1", /loopback/],
    ["fe80::1", /link-local/],
    ["fe80::1%eth0", /link-local/],
    ["febf::1", /link-local/],
    ["fec0::1", /site-local/],
    ["fc00::1", /unique-local/],
    ["fd12:3456::1", /unique-local/],
    ["fd00:ec2::254", /cloud metadata/],
    ["ff02::1", /multicast/],
    ["ff0e::1", /multicast/],
    ["100::1", /discard/],
    ["::ffff:127.0.0.1", /IPv4-mapped embedding of 127\.0\.0\.1: loopback/],
    ["::ffff:7f00:1", /IPv4-mapped embedding of 127\.0\.0\.1/],
    ["::ffff:169.254.169.254", /IPv4-mapped.*cloud metadata/],
    ["::ffff:0:10.0.0.1", /IPv4-translated.*private/],
    ["::127.0.0.1", /IPv4-compatible.*loopback/],
    ["::a00:1", /IPv4-compatible.*private/],
    ["64:ff9b::10.0.0.1", /NAT64.*private/],
    ["64:ff9b::a9fe:a9fe", /NAT64.*cloud metadata/],
    ["64:ff9b:1::1", /local-use NAT64/],
    ["2002:7f00:1::1", /6to4 embedding of 127\.0\.0\.1/],
    ["2002:c0a8:101::", /6to4 embedding of 192\.168\.1\.1/],
    ["2001::1", /Teredo/],
    ["2001:2::1", /IETF special purpose/],
    ["2001:db8::1", /documentation/],
    ["3fff::1", /documentation/],
    ["5f00::1", /not global unicast/],
    ["4000::1", /not global unicast/],
    ["not-an-ip", /not an IP/],
  ];
  it.each(refused)("refuses %s", (address, label) => {
    expect(classifyAddress(address)).toMatch(label);
  });

  it.each(["8.8.8.8", "1.1.1.1", "93.184.215.14", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "198.17.255.255", "198.20.0.1", "223.255.255.255", "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"])(
    "allows public %s",
    (address) => {
      expect(classifyAddress(address)).toBeNull();
    },
  );

  it("normalises textual forms", () => {
    expect(canonicalAddress("::ffff:127.0.0.1")).toBe(canonicalAddress("0:0:0:0:0:ffff:7f00:1"));
    expect(canonicalAddress("[::1]")).toBe("0:0:0:0:0:0:0:1");
    expect(canonicalAddress("127.0.0.1")).toBe("127.0.0.1");
    expect(canonicalAddress("example.com")).toBeNull();
  });
});

describe("WHATWG URL host parsing turns odd IPv4 spellings into dotted quads", () => {
  it.each([
    ["http://2130706433/", "127.0.0.1"],
    ["http://0x7f.1/", "127.0.0.1"],
    ["http://0x7f000001/", "127.0.0.1"],
    ["http://0177.0.0.1/", "127.0.0.1"],
    ["http://017700000001/", "127.0.0.1"],
    ["http://127.1/", "127.0.0.1"],
    ["http://127.0.0.1./", "127.0.0.1"],
    ["http://0/", "0.0.0.0"],
    ["http://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254"],
    ["http://2852039166/", "169.254.169.254"],
    ["http://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"],
    ["http://[0:0:0:0:0:ffff:127.0.0.1]/", "[::ffff:7f00:1]"],
  ])("%s → %s, which is refused", (url, hostname) => {
    expect(new URL(url).hostname).toBe(hostname);
    expect(classifyAddress(hostname)).not.toBeNull();
  });
});

describe("classifyHostname", () => {
  it.each(["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "metadata.goog", "localhost", "foo.localhost", "printer.local", "db.internal", "nas.home.arpa"])(
    "refuses %s by name",
    (name) => {
      expect(classifyHostname(name)).not.toBeNull();
    },
  );
  it.each(["example.com", "localhost.example.com", "internal.example.com"])("allows %s", (name) => {
    expect(classifyHostname(name)).toBeNull();
  });
});

describe("allow list", () => {
  it("parses host, host:port and bracketed IPv6", () => {
    expect(parseAllowEntry("127.0.0.1")).toEqual({ host: "127.0.0.1", isAddress: true, port: undefined });
    expect(parseAllowEntry("127.0.0.1:8080")).toEqual({ host: "127.0.0.1", isAddress: true, port: 8080 });
    expect(parseAllowEntry("[::1]:80")).toEqual({ host: "0:0:0:0:0:0:0:1", isAddress: true, port: 80 });
    expect(parseAllowEntry("::1")).toEqual({ host: "0:0:0:0:0:0:0:1", isAddress: true, port: undefined });
    expect(parseAllowEntry("Example.TEST:443")).toEqual({ host: "example.test", isAddress: false, port: 443 });
    expect(() => parseAllowEntry("127.0.0.1:99999")).toThrow(/invalid port/);
  });

  it("matches by address and port", () => {
    const list = createAllowList(["127.0.0.1:8080", "[::1]"]);
    expect(list.allowsAddress("127.0.0.1", 8080, "127.0.0.1")).toBe(true);
    expect(list.allowsAddress("127.0.0.1", 8081, "127.0.0.1")).toBe(false);
    expect(list.allowsAddress("0:0::1", 1, "x")).toBe(true);
    expect(list.allowsAddress("10.0.0.1", 8080, "127.0.0.1")).toBe(false);
    expect(createAllowList().allowsAddress("127.0.0.1", 80, "127.0.0.1")).toBe(false);
  });

  it("a host name entry allows whatever that name resolves to, on that port only", () => {
    const list = createAllowList(["wp.internal:443"]);
    expect(list.allowsName("wp.internal", 443)).toBe(true);
    expect(list.allowsAddress("10.0.0.5", 443, "wp.internal")).toBe(true);
    expect(list.allowsAddress("10.0.0.5", 80, "wp.internal")).toBe(false);
    expect(list.allowsAddress("10.0.0.5", 443, "other.internal")).toBe(false);
  });
});
