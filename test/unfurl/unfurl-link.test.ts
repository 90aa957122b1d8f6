// The trigger → job → fetch → preview → media + message path, against loopback sites.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FetchError, guardedFetch } from "../../src/http/index.ts";
import { createLogger } from "../../src/log.ts";
import { previewFor, TransientUnfurlError, unfurlMedia, type UnfurlDeps } from "../../src/unfurl/unfurl.ts";
import { startWorker } from "../../src/worker/start.ts";
import { freshDatabase, type TestDb } from "../support/db.ts";

let t: TestDb;
let server: http.Server;
let base: string;
let port: number;
const hits: Record<string, number> = {};
const q = (text: string, values: unknown[] = []) => t.pg.query(text, values);

const article = (origin: string) => `<!doctype html><html lang="en"><head>
  <meta charset="utf-8"><title>Fallback title | Loopback News</title>
  <meta property="og:title" content="Rivers of &amp; the North">
  <meta property="og:description" content="  A long   read about rivers.  ">
  <meta property="og:image" content="/img/rivers.jpg">
  <meta property="og:site_name" content="Loopback News">
  <link rel="canonical" href="${origin}/news/rivers">
  <link rel="icon" href="/static/icon.png" sizes="32x32">
</head><body><article><h1>Rivers</h1><p>Text.</p></article></body></html>`;

beforeAll(async () => {
  t = await freshDatabase("unfurl");
  server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    hits[path] = (hits[path] ?? 0) + 1;
    if (path === "/news/rivers" || path === "/slow-article") {
      const send = () => {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(article(base));
      };
      if (path === "/slow-article") setTimeout(send, 300);
      else send();
    } else if (path === "/short") {
      res.writeHead(301, { location: "/news/rivers?utm_source=chat" });
      res.end();
    } else if (path === "/photo.png") {
      res.writeHead(200, { "content-type": "image/png" });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const timer = setInterval(() => res.write(chunk), 1); // endless
      res.on("close", () => clearInterval(timer));
    } else if (path === "/gone") {
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<title>Not found</title>");
    } else {
      res.writeHead(500);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await t.close();
});

function deps(): UnfurlDeps {
  return {
    pg: t.pg,
    fetch: (url, options) => guardedFetch(url, { ...options, allowHosts: [`127.0.0.1:${port}`] }),
    settings: { cacheTtlSeconds: 3600, failureTtlSeconds: 60, maxBytes: 2 * 1024 * 1024, timeoutMs: 5000 },
  };
}
const job = { attempts: 1, maxAttempts: 3 };

async function conversationMessage(attachments: unknown[]): Promise<{ conversation: string; message: string }> {
  const bot = (await q("insert into chatbots (name) values ('b') returning id")).rows[0].id;
  const conversation = (await q("insert into conversations (chatbot_id, user_id) values ($1, 5) returning id", [bot])).rows[0].id;
  const message = (await q("insert into messages (conversation_id, role, content, metadata) values ($1, 'user', 'look', $2) returning id",
    [conversation, JSON.stringify({ tokens: 3, attachments })])).rows[0].id;
  return { conversation: String(conversation), message: String(message) };
}
async function linkMedia(url: string, messageId: string | null, conversationId: string | null): Promise<string> {
  return String((await q(
    `insert into media (message_id, conversation_id, user_id, media_type, file_name, file_path, file_url, mime_type)
     values ($1, $2, 5, 'link', $3, '', $3, 'text/html') returning id`, [messageId, conversationId, url])).rows[0].id);
}
const mediaRow = async (id: string) => (await q("select file_url, metadata from media where id = $1", [id])).rows[0];

describe("unfurl_link end to end", () => {
  it("a link media row enqueues a job; the worker fills the preview and the message attachment", async () => {
    const { conversation, message } = await conversationMessage([
      { media_id: 999999, type: "image", url: "/uploads/cat.jpg" },
    ]);
    const gw = t.cfg.BOTKIT_WORKER_SCHEMA;
    await q(`delete from ${gw}._private_jobs`);
    const media = await linkMedia(`${base}/short?utm_campaign=x#frag`, message, conversation);
    // One job per link row, via one add_jobs call per statement.
    await q(`insert into media (user_id, media_type, file_name, file_path, file_url, mime_type, metadata)
             select 5, 'link', 'x', '', '${base}/gone', 'text/html', null from generate_series(1, 3)`);
    await q(`insert into media (user_id, media_type, file_name, file_path, file_url, mime_type, metadata)
             values (5, 'link', 'y', '', 'https://example.test/', 'text/html', '{"unfurl": {"status": "ok"}}'),
                    (5, 'image', 'z', '/z.png', '/z.png', 'image/png', null)`);
    const jobs = (await q(`select key from ${gw}._private_jobs order by id`)).rows.map((r) => r.key);
    expect(jobs).toHaveLength(4);
    expect(jobs[0]).toBe(`unfurl_link:${media}`);

    const worker = await startWorker({ ...t.cfg, HTTP_ALLOW_HOSTS: [`127.0.0.1:${port}`] }, createLogger({ level: "error" }), { crontab: "" });
    try {
      const deadline = Date.now() + 15_000;
      while (Number((await q(`select count(*) from ${gw}._private_jobs`)).rows[0].count) > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await worker.stop("test done");
    }
    const row = await mediaRow(media);
    expect(row.file_url).toBe(`${base}/news/rivers`);
    expect(row.metadata).toMatchObject({
      title: "Rivers of & the North",
      description: "A long read about rivers.",
      image: `${base}/img/rivers.jpg`,
      site_name: "Loopback News",
      url: `${base}/news/rivers`,
      favicon: `${base}/static/icon.png`,
      unfurl: { status: "ok", reason: null },
    });
    const msg = (await q("select metadata from messages where id = $1", [message])).rows[0].metadata;
    expect(msg.tokens).toBe(3);
    expect(msg.attachments).toEqual([
      { media_id: 999999, type: "image", url: "/uploads/cat.jpg" },
      expect.objectContaining({ media_id: Number(media), type: "link", url: `${base}/news/rivers`, title: "Rivers of & the North", image: `${base}/img/rivers.jpg` }),
    ]);
    // The 404s got honest minimal previews and were not retried.
    const gone = (await q("select metadata from media where file_url = $1", [`${base}/gone`])).rows;
    expect(gone).toHaveLength(3);
    for (const g of gone) expect(g.metadata).toMatchObject({ url: `${base}/gone`, title: null, site_name: "127.0.0.1", unfurl: { status: "failed", reason: "http_404" } });
    expect(hits["/gone"]).toBe(1); // the cache served the other two
  });

  it("refuses private addresses, leaving a minimal preview with the reason", async () => {
    const media = await linkMedia("http://169.254.169.254/latest/meta-data/", null, null);
    const outcome = await unfurlMedia(deps(), media, job);
    expect(outcome).toMatchObject({ status: "failed", reason: "blocked_address" });
    expect((await mediaRow(media)).metadata).toMatchObject({ url: "http://169.254.169.254/latest/meta-data/", site_name: "169.254.169.254", unfurl: { status: "failed" } });
    const other = await linkMedia("http://127.0.0.1:1/", null, null); // loopback, but not the allowed port
    expect(await unfurlMedia(deps(), other, job)).toMatchObject({ status: "failed", reason: "blocked_address" });
  });

  it("previews an image link without downloading the image", async () => {
    const media = await linkMedia(`${base}/photo.png`, null, null);
    const started = Date.now();
    expect(await unfurlMedia(deps(), media, job)).toMatchObject({ status: "ok" });
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await mediaRow(media)).metadata).toMatchObject({ image: `${base}/photo.png`, title: "photo.png", type: "image" });
  });

  it("gives video links an embed without any network call", async () => {
    const media = await linkMedia("https://youtu.be/dQw4w9WgXcQ?t=42", null, null);
    const offline = () => Promise.reject(new FetchError("connection_failed", "no network in this test"));
    const err = await unfurlMedia({ ...deps(), fetch: offline }, media, job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientUnfurlError); // retried later; the embed is there meanwhile
    const meta = (await mediaRow(media)).metadata;
    expect(meta).toMatchObject({ provider: "youtube", video_id: "dQw4w9WgXcQ" });
    expect(meta.embed_url).toMatch(/^https:\/\/www\.youtube(-nocookie)?\.com\/embed\/dQw4w9WgXcQ/);
  });

  it("shares one fetch between concurrent unfurls of one URL and caches by normalised URL", async () => {
    const before = hits["/slow-article"] ?? 0;
    const urls = [`${base}/slow-article`, `${base}/slow-article?utm_source=a`, `${base}/slow-article#x`, `${base}/slow-article?fbclid=1`];
    const results = await Promise.all(urls.map((u) => previewFor(deps(), u)));
    expect(hits["/slow-article"]! - before).toBe(1);
    expect(new Set(results.map((r) => r.preview.title))).toEqual(new Set(["Rivers of & the North"]));
    const again = await previewFor(deps(), `${base}/slow-article?utm_medium=b`);
    expect(again.cached).toBe(true);
    expect(hits["/slow-article"]! - before).toBe(1);
  });
});
