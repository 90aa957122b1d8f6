// Benchmark 6: unfurl 1,000 links through loopback servers at concurrency 20, the whole
// path (normalise → cache lookup → guarded fetch → extract → cache write), against the
// same fetches without parsing or database work (baseline). Pages are the link-preview
// corpus pages, each URL made distinct with a query parameter so nothing is cached.
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import pLimit from "p-limit";
import type { Config } from "../src/config.ts";
import { createPgPool } from "../src/db/pool.ts";
import { guardedFetch, type GuardedFetchOptions } from "../src/http/index.ts";
import { previewFor } from "../src/unfurl/unfurl.ts";

export interface UnfurlLinksResult {
  links: number;
  concurrency: number;
  pages: number;
  ms: number;
  linksPerSecond: number;
  ok: number;
  failed: number;
  baselineMs: number;
  baselinePerSecond: number;
  share: number;
  peakRssMb: number;
}

export async function benchUnfurlLinks(cfg: Config, corpusDir: string, links = 1000, concurrency = 20): Promise<UnfurlLinksResult> {
  const dir = path.join(corpusDir, "unfurl", "metascraper");
  const pages = readdirSync(dir).map((name) => readFileSync(path.join(dir, name, "input.html")));
  const server = http.createServer((req, res) => {
    const i = Number(/^\/page\/(\d+)/.exec(req.url ?? "")?.[1] ?? -1);
    const page = pages[i];
    if (!page) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const allowHosts = [new URL(origin).host];
  const urls = Array.from({ length: links }, (_, n) => `${origin}/page/${n % pages.length}?n=${n}`);
  const pool = createPgPool(cfg, concurrency + 2);
  const fetch = (url: string, options: GuardedFetchOptions) => guardedFetch(url, { ...options, allowHosts });
  try {
    const limit = pLimit(concurrency);
    // Baseline: the same fetches, body read, nothing parsed or stored.
    let t = performance.now();
    await Promise.all(urls.map((u) => limit(async () => {
      await fetch(`${u}&baseline=1`, { accept: ["text/html"], truncate: true }); // body dropped at once
    })));
    const baselineMs = performance.now() - t;

    const settings = { cacheTtlSeconds: 3600, failureTtlSeconds: 60, maxBytes: 2 * 1024 * 1024, timeoutMs: 15_000 };
    let ok = 0;
    t = performance.now();
    await Promise.all(urls.map((u) => limit(async () => {
      const r = await previewFor({ pg: pool, fetch, settings }, u);
      if (r.status === "ok") ok++;
    })));
    const ms = performance.now() - t;
    return {
      links,
      concurrency,
      pages: pages.length,
      ms,
      linksPerSecond: (links * 1000) / ms,
      ok,
      failed: links - ok,
      baselineMs,
      baselinePerSecond: (links * 1000) / baselineMs,
      share: baselineMs / ms,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await pool.end();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

// Run as its own process (`node bench/unfurl-links.ts <schema>`) so its peak RSS is its own.
if (import.meta.main) {
  const { benchConfig, benchDatabaseUrl } = await import("./db.ts");
  const cfg = benchConfig(benchDatabaseUrl(), process.argv[2] ?? "bench_unfurl");
  const result = await benchUnfurlLinks(cfg, path.resolve(process.env.BOTKIT_CORPUS_DIR ?? "../shared/corpus"));
  process.stdout.write(JSON.stringify(result) + "\n");
}
