// `botkit-worker demo`: ingests the shipped sample content for a demo chatbot with the
// configured embedder (local by default: no keys, no network), then answers a query.
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { projectRoot } from "../config.ts";
import { createLogger } from "../log.ts";
import { startWorker } from "../worker/start.ts";
import type { CommandContext } from "./command.ts";

const samples = [
  { title: "Shipping and Returns FAQ", source_type: "markdown", file_path: "shipping-faq.md", mime_type: "text/markdown" },
  { title: "", source_type: "html", file_path: "getting-started.html", mime_type: "text/html" },
  { title: "Store opening hours", source_type: "text", file_path: "store-hours.txt", mime_type: "text/plain" },
  { title: "Trailhead 2 user manual", source_type: "pdf", file_path: "trailhead-manual.pdf", mime_type: "application/pdf" },
];

const questions = ["How do I wash my backpack?", "How long do refunds take after a return?"];

/** A stand-in website on loopback (there is no internet here) for the links in the chat. */
async function startSampleSite(samplesDir: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const page = await readFile(path.join(samplesDir, "getting-started.html"));
  const server = http.createServer((req, res) => {
    if ((req.url ?? "").startsWith("/guides/trailhead-2")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(page);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function demoCommand({ cfg, log, args }: CommandContext): Promise<number> {
  const samplesDir = path.join(projectRoot, "samples");
  const site = await startSampleSite(samplesDir);
  const demoCfg = {
    ...cfg,
    BOTKIT_STORAGE_ROOTS: [samplesDir, ...cfg.BOTKIT_STORAGE_ROOTS],
    WORKER_POLL_INTERVAL_MS: 200,
    // Only the demo's own loopback site is exempt from the private-address rule.
    HTTP_ALLOW_HOSTS: [new URL(site.origin).host, ...cfg.HTTP_ALLOW_HOSTS],
  };
  const out = (s = "") => process.stdout.write(s + "\n");
  // Expected retries (the video link has no internet to reach) are not worth showing.
  const quiet = args.includes("--verbose") ? log : createLogger({ level: "error" });
  const worker = await startWorker(demoCfg, quiet, { crontab: "" });
  const { pg, embedder } = worker.ctx;
  try {
    out(`botkit-worker demo — embedder: ${embedder.provider} ${embedder.model} (${embedder.dimensions} dimensions)`);
    // Small chunks suit the short samples; a chatbot's model_config may lower chunk_size_tokens.
    const modelConfig = JSON.stringify({ chunk_size_tokens: 120, chunk_overlap_tokens: 16, min_chunk_relevance: 0.05 });
    const bot = await pg.query<{ id: string }>(
      `with existing as (update chatbots set model_config = $1 where id = (select min(id) from chatbots where name = 'Demo bot') returning id),
            created as (insert into chatbots (name, model_config) select 'Demo bot', $1
                         where not exists (select 1 from existing) returning id)
       select id from existing union all select id from created`,
      [modelConfig],
    );
    const chatbotId = bot.rows[0]!.id;

    // Insert or refresh the sample documents; an unchanged document is re-ingested for free.
    const ids: string[] = [];
    for (const s of samples) {
      const existing = await pg.query<{ id: string }>("select id from documents where file_path = $1 and source_type = $2", [s.file_path, s.source_type]);
      let id = existing.rows[0]?.id;
      if (id) {
        await pg.query("update documents set status = 'pending' where id = $1", [id]);
      } else {
        const ins = await pg.query<{ id: string }>(
          "insert into documents (title, source_type, file_path, mime_type) values ($1, $2, $3, $4) returning id",
          [s.title, s.source_type, s.file_path, s.mime_type],
        );
        id = ins.rows[0]!.id;
      }
      await pg.query(
        `insert into content_relationships (source_type, source_id, target_type, target_id) values ('chatbot', $1, 'document', $2)
         on conflict do nothing`,
        [chatbotId, id],
      );
      ids.push(id);
    }
    out(`enqueued ${ids.length} documents (triggers call graphile_worker.add_jobs); waiting for the worker...`);

    const deadline = Date.now() + 120_000;
    let rows: { id: string; title: string; file_path: string; status: string; error_message: string | null; metadata: { last_ingest?: Record<string, unknown> } }[] = [];
    for (;;) {
      rows = (await pg.query("select id, title, file_path, status, error_message, metadata from documents where id = any($1) order by id", [ids])).rows;
      if (rows.every((r) => r.status === "completed" || r.status === "failed")) break;
      if (Date.now() > deadline) throw new Error("demo: documents did not finish within 2 minutes");
      await new Promise((r) => setTimeout(r, 200));
    }
    out();
    out("document                   status     chunks  new  kept  embedded  cache hits  requests  ms");
    for (const r of rows) {
      const s = r.metadata.last_ingest ?? {};
      const n = (k: string) => String(s[k] ?? "-");
      out(`${r.file_path.padEnd(26)} ${r.status.padEnd(10)} ${n("chunks").padStart(6)} ${n("inserted").padStart(4)} ${n("kept").padStart(5)} ${n("embedded").padStart(9)} ${n("cache_hits").padStart(11)} ${n("embedding_requests").padStart(9)} ${n("ms").padStart(4)}`);
      if (r.status === "failed") out(`  error: ${r.error_message}`);
    }

    for (const question of questions) {
      const { vectors } = await embedder.embed([question]);
      const literal = `[${Array.from(vectors[0]!).join(",")}]`;
      const hits = await pg.query<{ title: string; content: string; similarity: number; metadata: { heading_path?: string[]; page_start?: number } }>(
        "select title, content, similarity, metadata from match_chunks($1, $2::vector, 3, 0.05)",
        [chatbotId, literal],
      );
      out();
      out(`Q: ${question}`);
      for (const h of hits.rows) {
        const headings = (h.metadata.heading_path ?? []).filter((x, i) => !(i === 0 && x === h.title));
        const where = [h.title, ...headings].filter(Boolean).join(" > ") + (h.metadata.page_start ? ` (p. ${h.metadata.page_start})` : "");
        out(`  ${h.similarity.toFixed(3)}  ${where}`);
        out(`         ${h.content.replace(/\s+/g, " ").slice(0, 140)}${h.content.length > 140 ? "…" : ""}`);
      }
    }
    // A chat message with two links: the app stores a `link` media row per link, and the
    // trigger enqueues unfurl_link for each.
    const links = [`${site.origin}/guides/trailhead-2?utm_source=chat`, "https://youtu.be/dQw4w9WgXcQ?t=42"];
    const convo = await pg.query<{ id: string }>("insert into conversations (chatbot_id, user_id, session_id) values ($1, 1, 'demo') returning id", [chatbotId]);
    const msg = await pg.query<{ id: string }>(
      "insert into messages (conversation_id, role, content) values ($1, 'user', $2) returning id",
      [convo.rows[0]!.id, `Is this the one? ${links.join(" and the video ")}`],
    );
    const media = await pg.query<{ id: string }>(
      `insert into media (message_id, conversation_id, user_id, media_type, file_name, file_path, file_url, mime_type)
       select $1, $2, 1, 'link', u, '', u, 'text/html' from unnest($3::text[]) u returning id`,
      [msg.rows[0]!.id, convo.rows[0]!.id, links],
    );
    const mediaIds = media.rows.map((r) => r.id);
    const unfurlDeadline = Date.now() + 30_000;
    let previews: { metadata: Record<string, unknown> | null }[] = [];
    for (;;) {
      previews = (await pg.query("select metadata from media where id = any($1) order by id", [mediaIds])).rows;
      if (previews.every((p) => p.metadata?.unfurl) || Date.now() > unfurlDeadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    out();
    out("Link previews for the chat message (media.metadata, mirrored in messages.metadata.attachments):");
    for (const [i, p] of previews.entries()) {
      const m = p.metadata ?? {};
      const state = (m.unfurl as { status?: string; reason?: string | null } | undefined) ?? {};
      out(`  ${links[i]}`);
      const note = state.reason === "dns_failure" ? ": no internet here; the embed needs none" : "";
      out(`    ${state.status ?? "pending"}${state.reason ? ` (${state.reason}${note})` : ""}`);
      for (const key of ["title", "description", "image", "site_name", "favicon", "url", "provider", "video_id", "embed_url", "thumbnail_url"]) {
        if (m[key] !== undefined && m[key] !== null) out(`    ${key.padEnd(13)} ${String(m[key])}`);
      }
    }
    const attachments = (await pg.query("select metadata -> 'attachments' as a from messages where id = $1", [msg.rows[0]!.id])).rows[0]?.a;
    out(`  message attachments: ${Array.isArray(attachments) ? attachments.length : 0}`);

    out();
    out("The local embedder is lexical (hashed words and character n-grams), not semantic: set EMBEDDING_PROVIDER=openai for real embeddings.");
    return rows.some((r) => r.status === "failed") ? 1 : 0;
  } finally {
    await worker.stop("demo finished");
    await site.close();
  }
}
