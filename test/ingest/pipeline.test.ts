import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalEmbedder } from "../../src/ingest/embed/local.ts";
import { ensureModelIndex, registerModel } from "../../src/ingest/model-index.ts";
import { ingestDocument, type IngestDeps } from "../../src/ingest/pipeline.ts";
import { defaultFetch } from "../../src/ingest/sources.ts";
import type { Embedder } from "../../src/ingest/types.ts";
import { createLogger } from "../../src/log.ts";
import { PermanentJobError } from "../../src/tasks/define.ts";
import { projectRoot } from "../support/cli.ts";
import { freshDatabase, type TestDb } from "../support/db.ts";

let t: TestDb;
let storage: string;
const q = (text: string, values: unknown[] = []) => t.pg.query(text, values);

/** The local embedder, counting what reaches it. */
function countingEmbedder(inner: Embedder = createLocalEmbedder({ dimensions: 64 })) {
  const calls: string[][] = [];
  const embedder: Embedder = {
    provider: inner.provider,
    model: inner.model,
    dimensions: inner.dimensions,
    countTokens: (s) => inner.countTokens(s),
    embed: async (texts, opts) => {
      calls.push([...texts]);
      const r = await inner.embed(texts, opts);
      return { ...r, requests: 1 };
    },
  };
  return { embedder, calls, texts: () => calls.flat() };
}

function deps(embedder: Embedder, overrides: Partial<IngestDeps["settings"]> = {}): IngestDeps {
  return {
    db: t.db,
    pg: t.pg,
    embedder,
    log: createLogger({ level: "error" }),
    settings: { chunkSizeTokens: 60, chunkOverlapTokens: 8, prependTitle: true, ...overrides },
    sources: { storageRoots: [storage], maxBytes: 5_000_000, pdfTimeoutMs: 30_000, fetch: defaultFetch([]) },
  };
}
const job = { signal: new AbortController().signal, attempts: 1, maxAttempts: 5 };

async function addDoc(fields: Record<string, unknown>): Promise<string> {
  const keys = Object.keys(fields);
  const res = await q(
    `insert into documents (${keys.join(", ")}) values (${keys.map((_, i) => `$${i + 1}`).join(", ")}) returning id`,
    Object.values(fields),
  );
  return String(res.rows[0].id);
}
const chunksOf = async (id: string) =>
  (await q("select id, chunk_index, content, metadata, encode(content_hash, 'hex') as hash from chunks where document_id = $1 order by chunk_index", [id])).rows as {
    id: string; chunk_index: number; content: string; metadata: { heading_path: string[]; char_start: number; char_end: number; page_start?: number }; hash: string;
  }[];

const paragraphs = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => `Paragraph ${i} about ${tag}: ${"alpha beta gamma delta epsilon zeta eta theta ".repeat(3)}end ${i}.`);

beforeAll(async () => {
  t = await freshDatabase("ingest");
  await q("update settings set value = '0' where key = 'ingest_debounce_seconds'");
  storage = await mkdtemp(path.join(os.tmpdir(), "botkit-storage-"));
  const e = createLocalEmbedder({ dimensions: 64 });
  await registerModel(t.pg, e);
  await ensureModelIndex(t.pg, t.cfg.BOTKIT_SCHEMA, e.model, e.dimensions);
});
afterAll(async () => {
  await t.close();
  await rm(storage, { recursive: true, force: true });
});

describe("enqueueing", () => {
  it("enqueues one ingest job per document per statement, coalescing a burst of edits", async () => {
    await q(`delete from ${t.cfg.BOTKIT_WORKER_SCHEMA}._private_jobs`);
    const res = await q(`insert into documents (title, source_type, content)
                         select 'bulk ' || g, 'text', 'text ' || g from generate_series(1, 50) g returning id`);
    const gw = t.cfg.BOTKIT_WORKER_SCHEMA;
    const jobs = async () => (await q(`select j.key, j.payload from ${gw}._private_jobs j join ${gw}._private_tasks t on t.id = j.task_id
                                        where t.identifier = 'ingest_document' order by j.id`)).rows;
    expect((await jobs()).length).toBe(50);
    const id = String(res.rows[0].id);
    for (let i = 0; i < 5; i++) await q("update documents set content = $2 where id = $1", [id, `edit ${i}`]);
    const forDoc = (await jobs()).filter((j) => j.key === `ingest_document:${id}`);
    expect(forDoc).toEqual([{ key: `ingest_document:${id}`, payload: { document_id: Number(id) } }]);
    // Worker-side updates (status, metadata) do not enqueue.
    await q(`delete from ${t.cfg.BOTKIT_WORKER_SCHEMA}._private_jobs`);
    await q("update documents set status = 'processing', metadata = '{\"x\":1}' where id = $1", [id]);
    expect(await jobs()).toEqual([]);
    // An edit makes the document pending again.
    await q("update documents set content = 'final' where id = $1", [id]);
    expect((await q("select status from documents where id = $1", [id])).rows[0].status).toBe("pending");
    await q("delete from documents where title like 'bulk %'");
    await q(`delete from ${t.cfg.BOTKIT_WORKER_SCHEMA}._private_jobs`);
  });
});

describe("ingestDocument", () => {
  it("chunks, embeds and stores a markdown document with structure metadata", async () => {
    const md = `# Guide\n\n## Setup\n\n${paragraphs(4, "setup").join("\n\n")}\n\n## Usage\n\n${paragraphs(4, "usage").join("\n\n")}`;
    const id = await addDoc({ title: "Guide", source_type: "markdown", content: md });
    const c = countingEmbedder();
    const stats = await ingestDocument(deps(c.embedder), id, job);
    expect(stats.outcome).toBe("completed");
    const chunks = await chunksOf(id);
    expect(chunks.length).toBeGreaterThan(3);
    expect(stats).toMatchObject({ chunks: chunks.length, inserted: chunks.length, kept: 0, removed: 0, embedded: chunks.length });
    expect(chunks.map((ch) => ch.chunk_index)).toEqual(chunks.map((_, i) => i));
    expect(chunks.some((ch) => ch.metadata.heading_path.join(">") === "Guide>Setup")).toBe(true);
    expect(chunks.some((ch) => ch.metadata.heading_path.join(">") === "Guide>Usage")).toBe(true);
    expect(chunks.every((ch) => ch.metadata.char_end > ch.metadata.char_start && ch.content.trim().length > 0)).toBe(true);
    // The title is prepended to what gets embedded, not to the stored text.
    expect(c.texts().every((s) => s.startsWith("Guide\n"))).toBe(true);
    expect(chunks.every((ch) => !ch.content.startsWith("Guide\nGuide"))).toBe(true);
    const emb = await q("select count(*)::int as n from embeddings e join chunks c on c.id = e.chunk_id where c.document_id = $1", [id]);
    expect(emb.rows[0].n).toBe(chunks.length);
    const doc = (await q("select status, metadata, ingested_at from documents where id = $1", [id])).rows[0];
    expect(doc.status).toBe("completed");
    expect(doc.metadata.last_ingest).toMatchObject({ chunks: chunks.length, embedding_requests: 1 });
  });

  it("re-ingesting unchanged text makes zero embedding requests and keeps every row", async () => {
    const id = await addDoc({ title: "Stable", source_type: "text", content: paragraphs(8, "stability").join("\n\n") });
    await ingestDocument(deps(countingEmbedder().embedder), id, job);
    const before = await chunksOf(id);
    const c = countingEmbedder();
    const stats = await ingestDocument(deps(c.embedder), id, job);
    expect(stats.outcome).toBe("unchanged"); // fingerprint match: not even extracted again
    expect(stats).toMatchObject({ embedded: 0, embedding_requests: 0, inserted: 0, removed: 0, kept: before.length });
    // Forced: extracted, chunked and diffed again, still nothing to embed.
    const forced = await ingestDocument(deps(c.embedder), id, { ...job, force: true });
    expect(forced).toMatchObject({ outcome: "completed", embedded: 0, inserted: 0, removed: 0, kept: before.length });
    expect(c.calls).toEqual([]);
    expect((await chunksOf(id)).map((ch) => ch.id)).toEqual(before.map((ch) => ch.id));
    // Different chunking settings change the fingerprint.
    const rechunked = await ingestDocument(deps(c.embedder, { chunkSizeTokens: 45 }), id, job);
    expect(rechunked.outcome).toBe("completed");
  });

  it("notices a changed file behind an unchanged row", async () => {
    const file = path.join(storage, "notes.md");
    await writeFile(file, "# Notes\n\nThe first version talks about apples.");
    const id = await addDoc({ title: "Notes", source_type: "markdown", file_path: "notes.md" });
    await ingestDocument(deps(countingEmbedder().embedder), id, job);
    expect((await ingestDocument(deps(countingEmbedder().embedder), id, job)).outcome).toBe("unchanged");
    await writeFile(file, "# Notes\n\nThe second version talks about pears instead, at greater length.");
    const stats = await ingestDocument(deps(countingEmbedder().embedder), id, job);
    expect(stats.outcome).toBe("completed");
    expect((await chunksOf(id)).map((c) => c.content).join(" ")).toMatch(/pears/);
  });

  it("editing one paragraph re-embeds only the chunks around it", async () => {
    const paras = paragraphs(12, "incremental");
    const id = await addDoc({ title: "Incremental", source_type: "text", content: paras.join("\n\n") });
    await ingestDocument(deps(countingEmbedder().embedder), id, job);
    const before = await chunksOf(id);
    paras[6] = "Paragraph 6 was rewritten completely: the warranty now lasts ten years for every customer.";
    await q("update documents set content = $2 where id = $1", [id, paras.join("\n\n")]);
    const c = countingEmbedder();
    const stats = await ingestDocument(deps(c.embedder), id, job);
    const after = await chunksOf(id);
    const changed = after.filter((ch) => !before.some((b) => b.hash === ch.hash));
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThanOrEqual(3);
    expect(c.texts().length).toBe(changed.length);
    expect(changed.some((ch) => ch.content.includes("ten years"))).toBe(true);
    // Chunks far from the edit keep their rows (and so their embeddings).
    expect(after[0]!.id).toBe(before[0]!.id);
    expect(after.at(-1)!.id).toBe(before.at(-1)!.id);
    expect(stats.removed).toBe(before.length - (after.length - changed.length));
    const dup = await q("select count(*)::int as n from (select chunk_index from chunks where document_id = $1 group by 1 having count(*) > 1) d", [id]);
    expect(dup.rows[0].n).toBe(0);
  });

  it("reuses cached embeddings across documents", async () => {
    const text = paragraphs(5, "shared").join("\n\n");
    const a = await addDoc({ title: "Shared", source_type: "text", content: text });
    const first = countingEmbedder();
    await ingestDocument(deps(first.embedder), a, job);
    const b = await addDoc({ title: "Shared", source_type: "text", content: text });
    const second = countingEmbedder();
    const stats = await ingestDocument(deps(second.embedder), b, job);
    expect(first.texts().length).toBeGreaterThan(0);
    expect(second.calls).toEqual([]);
    expect(stats.cache_hits).toBe(first.texts().length);
    expect((await chunksOf(b)).length).toBe((await chunksOf(a)).length);
  });

  it("purges cache entries unused for the retention period and keeps stored embeddings", async () => {
    const id = await addDoc({ title: "Purge", source_type: "text", content: paragraphs(3, "purgeable").join("\n\n") });
    await ingestDocument(deps(countingEmbedder().embedder), id, job);
    const hashes = (await chunksOf(id)).map((c) => c.hash);
    await q("update embedding_cache set last_used_at = now() - interval '100 days' where encode(content_hash, 'hex') = any($1)", [hashes]);
    const total = Number((await q("select count(*) from embedding_cache")).rows[0].count);
    const { purgeEmbeddingCache } = await import("../../src/ingest/store.ts");
    expect(await purgeEmbeddingCache(t.pg, 90, 2)).toBe(hashes.length);
    expect(Number((await q("select count(*) from embedding_cache")).rows[0].count)).toBe(total - hashes.length);
    const emb = await q("select count(*)::int as n from embeddings e join chunks c on c.id = e.chunk_id where c.document_id = $1", [id]);
    expect(emb.rows[0].n).toBe(hashes.length);
    // The next edit of that text embeds it again (the cache no longer has it).
    const other = await addDoc({ title: "Purge", source_type: "text", content: paragraphs(3, "purgeable").join("\n\n") });
    const c = countingEmbedder();
    await ingestDocument(deps(c.embedder), other, job);
    expect(c.texts().length).toBe(hashes.length);
  });

  it("refuses files outside the storage roots, failing only that document", async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), "botkit-outside-"));
    await writeFile(path.join(outside, "secret.txt"), "top secret");
    await symlink(path.join(outside, "secret.txt"), path.join(storage, "link.txt"));
    const bystander = await addDoc({ title: "Bystander", source_type: "text", content: "still here" });
    await ingestDocument(deps(countingEmbedder().embedder), bystander, job);
    for (const filePath of ["../../../etc/passwd", path.join(outside, "secret.txt"), "link.txt"]) {
      const id = await addDoc({ title: "Escape", source_type: "text", file_path: filePath });
      const err = await ingestDocument(deps(countingEmbedder().embedder), id, job).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentJobError);
      const row = (await q("select status, error_reason, error_message from documents where id = $1", [id])).rows[0];
      expect(row.status, filePath).toBe("failed");
      expect(row.error_reason, filePath).toBe("outside_storage_root");
      expect(await chunksOf(id)).toEqual([]);
    }
    expect((await q("select status from documents where id = $1", [bystander])).rows[0].status).toBe("completed");
    expect((await chunksOf(bystander)).length).toBe(1);
    await rm(outside, { recursive: true, force: true });
  });

  it("refuses a URL that points at a private address", async () => {
    const id = await addDoc({ title: "SSRF", source_type: "url", source_url: "http://169.254.169.254/latest/meta-data/" });
    const err = await ingestDocument(deps(countingEmbedder().embedder), id, job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentJobError);
    const row = (await q("select status, error_reason, error_message from documents where id = $1", [id])).rows[0];
    expect(row).toMatchObject({ status: "failed", error_reason: "fetch_failed" });
    expect(row.error_message).toMatch(/169\.254\.169\.254/);
  });

  it("ingests a PDF from storage with page numbers", async () => {
    await writeFile(path.join(storage, "manual.pdf"), await (await import("node:fs/promises")).readFile(path.join(projectRoot, "samples/trailhead-manual.pdf")));
    const id = await addDoc({ title: "Manual", source_type: "pdf", file_path: "manual.pdf" });
    await ingestDocument(deps(countingEmbedder().embedder, { chunkSizeTokens: 30, chunkOverlapTokens: 0 }), id, job);
    const chunks = await chunksOf(id);
    expect(chunks.some((ch) => ch.metadata.page_start === 1 && ch.content.includes("hydration bladder"))).toBe(true);
    expect(chunks.some((ch) => ch.metadata.page_start === 2 && ch.content.includes("rain cover"))).toBe(true);
  });

  it("fails a corrupt PDF permanently with its reason, leaving other documents alone", async () => {
    await writeFile(path.join(storage, "broken.pdf"), Buffer.from("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ngarbage"));
    const id = await addDoc({ title: "Broken", source_type: "pdf", file_path: "broken.pdf" });
    const err = await ingestDocument(deps(countingEmbedder().embedder), id, job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentJobError);
    const row = (await q("select status, error_reason from documents where id = $1", [id])).rows[0];
    expect(row).toEqual({ status: "failed", error_reason: "corrupt" });
  });
});

describe("retrieval", () => {
  it("match_chunks returns the chatbot's most similar chunks through the model's index", async () => {
    const e = createLocalEmbedder({ dimensions: 64 });
    const bot = String((await q("insert into chatbots (name) values ('retrieval bot') returning id")).rows[0].id);
    const other = String((await q("insert into chatbots (name) values ('other bot') returning id")).rows[0].id);
    const topics = {
      returns: "You can return unused products within 30 days for a full refund using the prepaid label.",
      shipping: "Express shipping arrives the next business day when ordered before 2 pm.",
      washing: "Wash the backpack by hand in lukewarm water with mild soap; never use a tumble dryer.",
    };
    const ids: Record<string, string> = {};
    for (const [k, text] of Object.entries(topics)) {
      ids[k] = await addDoc({ title: k, source_type: "text", content: text });
      await ingestDocument(deps(e), ids[k]!, job);
      await q("insert into content_relationships (source_type, source_id, target_type, target_id) values ('chatbot', $1, 'document', $2)", [bot, ids[k]]);
    }
    // A document linked only to another chatbot, with text identical to the query.
    const hidden = await addDoc({ title: "hidden", source_type: "text", content: "How do I wash my backpack by hand?" });
    await ingestDocument(deps(e), hidden, job);
    await q("insert into content_relationships (source_type, source_id, target_type, target_id) values ('chatbot', $1, 'document', $2)", [other, hidden]);

    const query = (await e.embed(["How do I wash my backpack by hand?"])).vectors[0]!;
    const literal = `[${Array.from(query).join(",")}]`;
    const hits = (await q("select document_id, title, similarity from match_chunks($1, $2::vector, 3, -1)", [bot, literal])).rows;
    expect(hits.map((h) => String(h.document_id))).not.toContain(hidden);
    expect(String(hits[0].document_id)).toBe(ids.washing);
    expect(hits).toHaveLength(3); // k rows despite the chatbot filter
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1].similarity).toBeGreaterThanOrEqual(hits[i].similarity);
    const strict = (await q("select document_id from match_chunks($1, $2::vector, 3, $3)", [bot, literal, hits[0].similarity - 1e-6])).rows;
    expect(strict.map((h) => String(h.document_id))).toEqual([ids.washing]);
    await expect(q("select * from match_chunks($1, '[1,2,3]'::vector, 3, 0)", [bot])).rejects.toThrow(/query embedding has 3 dimensions/);
  });
});
