// SSRF guard: blocked addresses, DNS answers, redirects, schemes. Every
// refusal must happen before a connection is opened: the local servers count
// connections, and the tripwire records any attempt to leave loopback.

import type { TLSSocket } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { guardedFetch } from "../../src/http/guarded-fetch.ts";
import { armTripwire, closedPort, disarmTripwire, expectFetchError, fakeResolver, startServer, tripwireHits, type TestServer } from "./helpers.ts";
import { TEST_TLS_CERT, TEST_TLS_KEY } from "./tls-fixture.ts";

let origin: TestServer; // the allowed first hop
let victim: TestServer; // loopback service that must never be reached
let victim6: TestServer; // same on ::1

beforeAll(async () => {
  armTripwire();
  victim = await startServer((_req, res) => res.end("secret"));
  victim6 = await startServer((_req, res) => res.end("secret"), { host: "::1" });
  origin = await startServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const to = url.searchParams.get("to");
    if (url.pathname === "/redirect" && to !== null) {
      res.writeHead(Number(url.searchParams.get("status") ?? 302), { location: to }).end();
    } else if (url.pathname === "/loop") {
      res.writeHead(301, { location: "/loop2" }).end();
    } else if (url.pathname === "/loop2") {
      res.writeHead(302, { location: `http://${req.headers.host}/loop` }).end();
    } else if (url.pathname.startsWith("/chain/")) {
      const n = Number(url.pathname.slice("/chain/".length));
      if (n > 0) res.writeHead(302, { location: `/chain/${n - 1}` }).end();
      else res.writeHead(200, { "content-type": "text/plain" }).end(JSON.stringify(req.headers));
    } else {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<p>ok</p>");
    }
  });
});

afterAll(async () => {
  disarmTripwire();
  await Promise.all([origin.close(), victim.close(), victim6.close()]);
});

afterEach(() => {
  expect(tripwireHits, "a request left loopback").toEqual([]);
  expect(victim.connections, "the loopback victim was contacted").toBe(0);
  expect(victim6.connections, "the ::1 victim was contacted").toBe(0);
});

const fast = { timeoutMs: 2_000, connectTimeoutMs: 1_000 };

describe("literal addresses are refused before connecting", () => {
  const loopbackSpellings = (port: number): string[] => [
    `http://127.0.0.1:${port}/`,
    `http://2130706433:${port}/`,
    `http://0x7f.1:${port}/`,
    `http://0x7f000001:${port}/`,
    `http://0177.0.0.1:${port}/`,
    `http://017700000001:${port}/`,
    `http://127.1:${port}/`,
    `http://127.0.0.1.:${port}/`,
    `http://0.0.0.0:${port}/`,
    `http://0:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`,
    `http://[::ffff:7f00:1]:${port}/`,
    `http://[::127.0.0.1]:${port}/`,
    `http://[2002:7f00:1::]:${port}/`,
    `http://[64:ff9b::127.0.0.1]:${port}/`,
    `HTTP://LOCALHOST:${port}/`,
    `http://foo.localhost:${port}/`,
  ];

  it("every spelling of loopback (decimal, hex, octal, short, mapped, embedded)", async () => {
    for (const url of [...loopbackSpellings(victim.port), `http://[::1]:${victim6.port}/`, `http://[0:0:0:0:0:0:0:1]:${victim6.port}/`]) {
      const error = await expectFetchError(guardedFetch(url, fast), "blocked_address");
      expect(error.message).toMatch(/refusing to contact/);
      expect(error.url).toBe(new URL(url).href);
    }
  });

  it.each([
    ["http://10.0.0.1/", /private/],
    ["http://172.16.0.1/", /private/],
    ["http://192.168.1.1/", /private/],
    ["http://169.254.169.254/latest/meta-data/", /cloud metadata/],
    ["http://0xa9fea9fe/", /cloud metadata/],
    ["http://169.254.1.1/", /link-local/],
    ["http://100.64.0.1/", /carrier-grade NAT/],
    ["http://100.100.100.200/", /cloud metadata/],
    ["http://224.0.0.1/", /multicast/],
    ["http://255.255.255.255/", /broadcast/],
    ["http://198.18.0.1/", /benchmarking/],
    ["http://240.0.0.1/", /reserved/],
    ["http://192.0.2.1/", /documentation/],
    ["https://[fe80::1]/", /link-local/],
    ["http://[fc00::1]/", /unique-local/],
    ["http://[fd00:ec2::254]/", /cloud metadata/],
    ["http://[ff02::1]/", /multicast/],
    ["http://[::]/", /unspecified/],
    ["http://[::ffff:10.0.0.1]/", /IPv4-mapped.*private/],
    ["http://[::ffff:169.254.169.254]/", /cloud metadata/],
    ["http://[64:ff9b::a00:1]/", /NAT64.*private/],
    ["http://[2002:a9fe:a9fe::]/", /6to4.*cloud metadata/],
    ["http://[2001:db8::1]/", /documentation/],
    ["http://metadata.google.internal/computeMetadata/v1/", /cloud metadata/],
    ["http://metadata.google.internal./", /cloud metadata/],
  ])("%s", async (url, label) => {
    const { resolver, asked } = fakeResolver({});
    const error = await expectFetchError(guardedFetch(url, { ...fast, resolver }), "blocked_address");
    expect(error.message).toMatch(label);
    expect(asked).toEqual([]);
  });
});

describe("DNS answers", () => {
  it("refuses a host name that resolves to a private address", async () => {
    const { resolver, asked } = fakeResolver({ "evil.example": ["10.0.0.7"] });
    const error = await expectFetchError(guardedFetch("http://evil.example/", { ...fast, resolver }), "blocked_address");
    expect(error.message).toMatch(/evil\.example resolves to 10\.0\.0\.7, which is private/);
    expect(asked).toEqual(["evil.example"]);
  });

  it("refuses a host name with one public and one private answer", async () => {
    for (const answers of [
      ["93.184.215.14", "127.0.0.1"],
      ["::1", "93.184.215.14"],
      ["2606:4700::6810:84e5", "169.254.169.254"],
    ]) {
      const { resolver } = fakeResolver({ "mixed.example": answers });
      const error = await expectFetchError(guardedFetch(`http://mixed.example:${victim.port}/`, { ...fast, resolver }), "blocked_address");
      expect(error.message).toMatch(/mixed\.example resolves to/);
    }
  });

  it("refuses a name resolving to an IPv4-mapped loopback", async () => {
    const { resolver } = fakeResolver({ "mapped.example": ["::ffff:127.0.0.1"] });
    await expectFetchError(guardedFetch(`http://mapped.example:${victim.port}/`, { ...fast, resolver }), "blocked_address");
  });

  it("fails dns_failure for NXDOMAIN and for an empty answer", async () => {
    const { resolver } = fakeResolver({ "empty.example": [] });
    const nx = await expectFetchError(guardedFetch("http://nx.example/", { ...fast, resolver }), "dns_failure");
    expect(nx.message).toMatch(/ENOTFOUND/);
    await expectFetchError(guardedFetch("http://empty.example/", { ...fast, resolver }), "dns_failure");
  });

  it("connects to the address it validated (pinned), with Host = the URL's host name", async () => {
    let calls = 0;
    const resolver = async (): Promise<Array<{ address: string; family: 4 | 6 }>> => {
      calls += 1;
      // A rebinding DNS: first answer allowed, any later lookup would be the victim.
      return calls === 1 ? [{ address: "127.0.0.1", family: 4 }] : [{ address: "10.0.0.1", family: 4 }];
    };
    const result = await guardedFetch(`http://site.example:${origin.port}/chain/0`, { ...fast, resolver, allowHosts: [origin.hostPort] });
    expect(calls).toBe(1);
    const headers = JSON.parse(result.body.toString()) as Record<string, string>;
    expect(headers.host).toBe(`site.example:${origin.port}`);
  });

  it("tries the next validated address when one refuses the connection", async () => {
    const dead = await closedPort();
    const { resolver } = fakeResolver({ "two.example": ["::1", "127.0.0.1"] });
    // ::1 has nothing on origin's port; 127.0.0.1 does.
    const result = await guardedFetch(`http://two.example:${origin.port}/`, {
      ...fast,
      resolver,
      allowAddress: (address, port) => port === origin.port && (address === "::1" || address === "127.0.0.1"),
    });
    expect(result.status).toBe(200);
    const error = await expectFetchError(guardedFetch(`http://127.0.0.1:${dead}/`, { ...fast, allowHosts: [`127.0.0.1:${dead}`] }), "connection_failed");
    expect(error.message).toMatch(/ECONNREFUSED/);
  });
});

describe("allow list", () => {
  it("allows exactly the listed host:port — by IPv6 address or by name", async () => {
    const v6 = await startServer((req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(String(req.headers.host)), { host: "::1" });
    try {
      const byAddress = await guardedFetch(v6.url("/"), { ...fast, allowHosts: [v6.hostPort] });
      expect(byAddress.body.toString()).toBe(v6.hostPort);
      await expectFetchError(guardedFetch(v6.url("/"), { ...fast, allowHosts: [`[::1]:${v6.port + 1}`] }), "blocked_address");
      // A name entry lifts the "localhost" name ban and allows what it resolves to, on that port only.
      const { resolver } = fakeResolver({ localhost: ["::1"] });
      const byName = await guardedFetch(`http://localhost:${v6.port}/`, { ...fast, resolver, allowHosts: [`localhost:${v6.port}`] });
      expect(byName.body.toString()).toBe(`localhost:${v6.port}`);
      await expectFetchError(guardedFetch(`http://localhost:${victim6.port}/`, { ...fast, resolver, allowHosts: [`localhost:${v6.port}`] }), "blocked_address");
    } finally {
      await v6.close();
    }
  });
});

describe("redirects", () => {
  it("follows a relative redirect chain and reports it", async () => {
    const result = await guardedFetch(origin.url("/chain/3"), { ...fast, allowHosts: [origin.hostPort] });
    expect(result.status).toBe(200);
    expect(result.url).toBe(origin.url("/chain/0"));
    expect(result.redirects).toEqual([origin.url("/chain/3"), origin.url("/chain/2"), origin.url("/chain/1")]);
  });

  it("refuses a redirect to 127.0.0.1 on a port that is not allowed", async () => {
    const target = `http://127.0.0.1:${victim.port}/admin`;
    const start = origin.url(`/redirect?to=${encodeURIComponent(target)}`);
    const error = await expectFetchError(guardedFetch(start, { ...fast, allowHosts: [origin.hostPort] }), "blocked_address");
    expect(error.url).toBe(target);
    expect(error.redirects).toEqual([start]);
  });

  it.each(["http://169.254.169.254/latest/meta-data/iam/", "http://[fd00:ec2::254]/", "http://metadata.google.internal/", "http://2130706433/", "http://rebind.example/"])(
    "refuses a redirect to %s",
    async (target) => {
      const { resolver } = fakeResolver({ "rebind.example": ["192.168.0.10"] });
      const start = origin.url(`/redirect?status=307&to=${encodeURIComponent(target)}`);
      const error = await expectFetchError(guardedFetch(start, { ...fast, resolver, allowHosts: [origin.hostPort] }), "blocked_address");
      expect(error.redirects).toEqual([start]);
    },
  );

  it("detects a redirect loop", async () => {
    const started = performance.now();
    const error = await expectFetchError(guardedFetch(origin.url("/loop"), { ...fast, allowHosts: [origin.hostPort] }), "too_many_redirects");
    expect(error.message).toMatch(/loop/);
    expect(error.redirects).toEqual([origin.url("/loop"), origin.url("/loop2")]);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("stops after maxRedirects", async () => {
    await expectFetchError(guardedFetch(origin.url("/chain/6"), { ...fast, allowHosts: [origin.hostPort] }), "too_many_redirects");
    await expectFetchError(guardedFetch(origin.url("/chain/3"), { ...fast, maxRedirects: 2, allowHosts: [origin.hostPort] }), "too_many_redirects");
    const five = await guardedFetch(origin.url("/chain/5"), { ...fast, allowHosts: [origin.hostPort] });
    expect(five.redirects).toHaveLength(5);
  });

  it("refuses a redirect to another scheme, and a Location with credentials", async () => {
    await expectFetchError(guardedFetch(origin.url("/redirect?to=file:///etc/passwd"), { ...fast, allowHosts: [origin.hostPort] }), "unsupported_scheme");
    await expectFetchError(
      guardedFetch(origin.url(`/redirect?to=${encodeURIComponent(`http://u:p@${origin.hostPort}/`)}`), { ...fast, allowHosts: [origin.hostPort] }),
      "invalid_url",
    );
  });

  it("drops Authorization and Cookie on a cross-origin redirect", async () => {
    const other = await startServer((req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(req.headers)));
    try {
      const same = await guardedFetch(origin.url("/chain/1"), { ...fast, allowHosts: [origin.hostPort], headers: { Authorization: "Bearer t", Cookie: "a=b" } });
      expect(JSON.parse(same.body.toString())).toMatchObject({ authorization: "Bearer t", cookie: "a=b" });
      const cross = await guardedFetch(origin.url(`/redirect?to=${encodeURIComponent(other.url("/"))}`), {
        ...fast,
        allowHosts: [origin.hostPort, other.hostPort],
        headers: { Authorization: "Bearer t", Cookie: "a=b", "X-Trace": "1" },
      });
      const seen = JSON.parse(cross.body.toString()) as Record<string, string>;
      expect(seen.authorization).toBeUndefined();
      expect(seen.cookie).toBeUndefined();
      expect(seen["x-trace"]).toBe("1");
    } finally {
      await other.close();
    }
  });
});

describe("URL checks", () => {
  it.each(["ftp://example.com/", "file:///etc/passwd", "gopher://127.0.0.1:70/", "data:text/html,hi", "javascript:alert(1)", "ws://example.com/"])(
    "%s → unsupported_scheme",
    async (url) => {
      await expectFetchError(guardedFetch(url, fast), "unsupported_scheme");
    },
  );

  it("refuses credentials and garbage", async () => {
    await expectFetchError(guardedFetch("http://user:pass@example.com/", fast), "invalid_url");
    await expectFetchError(guardedFetch("http://user@example.com/", fast), "invalid_url");
    await expectFetchError(guardedFetch("not a url", fast), "invalid_url");
    await expectFetchError(guardedFetch("/relative/path", fast), "invalid_url");
  });
});

describe("https", () => {
  it("keeps SNI, certificate check and Host on the host name while connecting to the pinned address", async () => {
    const tlsServer = await startServer(
      (req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(`${String(req.headers.host)} sni=${String((req.socket as TLSSocket).servername)}`),
      {
        tls: { key: TEST_TLS_KEY, cert: TEST_TLS_CERT },
      },
    );
    try {
      const { resolver } = fakeResolver({ "example.test": ["127.0.0.1"] });
      const url = `https://example.test:${tlsServer.port}/`;
      const options = { ...fast, resolver, allowHosts: [tlsServer.hostPort], ca: TEST_TLS_CERT };
      const result = await guardedFetch(url, options);
      expect(result.body.toString()).toBe(`example.test:${tlsServer.port} sni=example.test`);
      // Same server through another name: the certificate does not match it.
      const { resolver: other } = fakeResolver({ "other.test": ["127.0.0.1"] });
      const error = await expectFetchError(guardedFetch(`https://other.test:${tlsServer.port}/`, { ...options, resolver: other }), "connection_failed");
      expect(error.message).toMatch(/TLS|altname|certificate/i);
      // And without the test CA the self-signed certificate is not trusted.
      await expectFetchError(guardedFetch(url, { ...fast, resolver, allowHosts: [tlsServer.hostPort] }), "connection_failed");
    } finally {
      await tlsServer.close();
    }
  });

  it("follows https→http by default and refuses it with allowHttpsDowngrade: false", async () => {
    const tlsServer = await startServer(
      (_req, res) => res.writeHead(302, { location: origin.url("/") }).end(),
      { tls: { key: TEST_TLS_KEY, cert: TEST_TLS_CERT } },
    );
    try {
      const { resolver } = fakeResolver({ "example.test": ["127.0.0.1"] });
      const options = { ...fast, resolver, allowHosts: [tlsServer.hostPort, origin.hostPort], ca: TEST_TLS_CERT };
      const url = `https://example.test:${tlsServer.port}/`;
      const result = await guardedFetch(url, options);
      expect(result.url).toBe(origin.url("/"));
      expect(result.redirects).toEqual([url]);
      const error = await expectFetchError(guardedFetch(url, { ...options, allowHttpsDowngrade: false }), "unsupported_scheme");
      expect(error.message).toMatch(/https→http/);
    } finally {
      await tlsServer.close();
    }
  });
});
