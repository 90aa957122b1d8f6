// The whole fetch-and-parse path on the 184 captured pages: each page is served on
// loopback at its original scheme, host name and path (one server per origin, https with a
// throwaway certificate naming every host; an injected resolver sends every name to
// 127.0.0.1), fetched through the guarded client by previewFor (cache included), and
// scored like the offline extraction. The fetch path must not lose
// accuracy: every field scores exactly what extractPreview scores on the same bytes.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guardedFetch } from "../../src/http/index.ts";
import { extractPreview } from "../../src/unfurl/extract.ts";
import { previewFor } from "../../src/unfurl/unfurl.ts";
import { corpusAvailable, corpusPath } from "../support/corpus.ts";
import { freshDatabase, type TestDb } from "../support/db.ts";
import { loadCorpus, scoredFields, scoreSet, SETS, type CorpusCase, type FieldValues } from "./corpus-score.ts";

describe.skipIf(!corpusAvailable)("unfurling the corpus pages through loopback servers", () => {
  let t: TestDb;
  let cases: CorpusCase[] = [];
  const servers = new Map<string, { server: http.Server; port: number }>(); // by origin
  const pages = new Map<string, Uint8Array>(); // host + path + query → page
  let ca = "";

  // The loopback URL a page is served from differs from the original only by its port,
  // so relative and protocol-relative URLs resolve alike and mapping back is exact.
  const served = (original: URL) => `${original.protocol}//${original.hostname}:${servers.get(original.origin)!.port}`;
  const loopbackUrl = (original: URL) => `${served(original)}${original.pathname}${original.search}`;
  const mapBack = (value: string | null | undefined, original: URL): string | null => {
    if (value === null || value === undefined) return null;
    return value.startsWith(served(original)) ? original.origin + value.slice(served(original).length) : value;
  };

  beforeAll(async () => {
    t = await freshDatabase("unfurl_corpus");
    cases = loadCorpus(corpusPath("unfurl"));
    const hosts = [...new Set(cases.map((c) => new URL(c.requestUrl).hostname))];
    const dir = mkdtempSync(path.join(os.tmpdir(), "botkit-tls-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=botkit corpus test", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
      "-addext", `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(",")}`], { stdio: "ignore" });
    const tls = { key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) };
    ca = tls.cert.toString();
    rmSync(dir, { recursive: true, force: true });
    for (const c of cases) {
      const u = new URL(c.requestUrl);
      const key = `${u.hostname}${u.pathname}${u.search}`;
      // Readability's pages all live at http://fakehost/...: give each its own path.
      if (pages.has(key)) {
        u.pathname = `${u.pathname.replace(/\/$/, "")}/${c.name}`;
        c.requestUrl = u.href;
      }
      pages.set(`${u.hostname}${u.pathname}${u.search}`, c.bytes);
      if (servers.has(u.origin)) continue;
      const handler: http.RequestListener = (req, res) => {
        const host = (req.headers.host ?? "").replace(/:\d+$/, "");
        const page = pages.get(`${host}${req.url ?? "/"}`);
        if (!page) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { "content-type": "text/html" }).end(page);
      };
      const server = u.protocol === "https:" ? https.createServer(tls, handler) : http.createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      servers.set(u.origin, { server, port: (server.address() as AddressInfo).port });
    }
  });
  afterAll(async () => {
    for (const { server } of servers.values()) await new Promise((r) => server.close(r));
    await t?.close();
  });

  it("scores every field exactly as the offline extraction does", async () => {
    const deps = {
      pg: t.pg,
      fetch: (url: string, options: Parameters<typeof guardedFetch>[1]) =>
        guardedFetch(url, {
          ...options,
          resolver: async () => [{ address: "127.0.0.1", family: 4 as const }],
          allowAddress: (address: string) => address === "127.0.0.1",
          ca,
        }),
      settings: { cacheTtlSeconds: 3600, failureTtlSeconds: 60, maxBytes: 2 * 1024 * 1024, timeoutMs: 10_000 },
    };
    const fetched = new Map<string, Partial<FieldValues>>();
    const offline = new Map<string, Partial<FieldValues>>();
    const started = performance.now();
    for (const c of cases) {
      const original = new URL(c.requestUrl);
      const result = await previewFor(deps, loopbackUrl(original));
      expect(result.status, `${c.set}/${c.name}: ${result.reason}`).toBe("ok");
      const p = result.preview;
      fetched.set(`${c.set}/${c.name}`, {
        title: p.title, description: p.description, site_name: p.site_name,
        image: mapBack(p.image, original), url: mapBack(p.url, original), favicon: mapBack(p.favicon, original),
      });
      const o = extractPreview({ html: c.bytes, url: c.requestUrl });
      offline.set(`${c.set}/${c.name}`, { title: o.title, description: o.description, site_name: o.site_name ?? original.hostname.replace(/^www\./, ""), image: o.image, url: o.url, favicon: o.favicon });
    }
    const ms = performance.now() - started;
    const lines: string[] = [`unfurled ${cases.length} pages through loopback in ${Math.round(ms)} ms (${(ms / cases.length).toFixed(1)} ms/page incl. fetch and cache write)`];
    for (const set of SETS) {
      const subset = cases.filter((c) => c.set === set);
      const viaFetch = scoreSet(subset, fetched);
      const direct = scoreSet(subset, offline);
      for (const field of scoredFields(set)) {
        const f = viaFetch[field];
        lines.push(`${set.padEnd(12)} ${field.padEnd(12)} ${f.hits}/${f.scored} = ${(100 * f.accuracy).toFixed(1)}%`);
        const lost = f.misses.filter((m) => !direct[field].misses.some((d) => d.name === m.name));
        expect(f.hits, `${set} ${field}: ${JSON.stringify(lost)}`).toBe(direct[field].hits);
      }
    }
    console.log(lines.join("\n"));
  });
});
