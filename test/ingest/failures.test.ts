// Ingestion against an OpenAI-compatible loopback server: provider faults end in clear
// document states, and a worker killed mid-document loses and duplicates nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenAIEmbedder } from "../../src/ingest/embed/openai.ts";
import { registerModel } from "../../src/ingest/model-index.ts";
import { ingestDocument, type IngestDeps } from "../../src/ingest/pipeline.ts";
import { defaultFetch } from "../../src/ingest/sources.ts";
import { createLogger } from "../../src/log.ts";
import { PermanentJobError } from "../../src/tasks/define.ts";
import { startWorker } from "../../src/worker/start.ts";
import { envFor, startCli } from "../support/cli.ts";
import { freshDatabase, type TestDb } from "../support/db.ts";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.ts";

let t: TestDb;
let fake: FakeOpenAI;
const q = (text: string, values: unknown[] = []) => t.pg.query(text, values);
const MODEL = "text-embedding-3-small";
const DIMS = 64;

const embedder = () =>
  createOpenAIEmbedder({ apiKey: fake.apiKey, baseURL: fake.url, model: MODEL, dimensions: DIMS, maxRetries: 2, retryBaseDelayMs: 10, requestTimeoutMs: 2000 });

function deps(): IngestDeps {
  return {
    db: t.db,
    pg: t.pg,
    embedder: embedder(),
    log: createLogger({ level: "error" }),
    settings: { chunkSizeTokens: 40, chunkOverlapTokens: 0, prependTitle: true },
    sources: { storageRoots: ["/nonexistent"], maxBytes: 1_000_000, pdfTimeoutMs: 10_000, fetch: defaultFetch([]) },
  };
}
const job = (attempts = 1, maxAttempts = 5) => ({ signal: new AbortController().signal, attempts, maxAttempts });

const text = (tag: string, n = 6) =>
  Array.from({ length: n }, (_, i) => `Section ${i} of the ${tag} edition explains topic ${i} in plenty of detail for the reader.`).join("\n\n");

async function addDoc(content: string): Promise<string> {
  return String((await q("insert into documents (title, source_type, content) values ('Doc', 'text', $1) returning id", [content])).rows[0].id);
}
const docRow = async (id: string) => (await q("select status, error_reason, error_message from documents where id = $1", [id])).rows[0];

beforeAll(async () => {
  t = await freshDatabase("ingest_failures");
  await q("update settings set value = '0' where key = 'ingest_debounce_seconds'");
  fake = await startFakeOpenAI({ models: { [MODEL]: 1536 } });
  await registerModel(t.pg, { provider: "openai", model: MODEL, dimensions: DIMS });
});
afterAll(async () => {
  await fake.close();
  await t.close();
});

describe("provider faults", () => {
  it("a wrong dimension count fails the document loudly and writes nothing", async () => {
    const id = await addDoc(text("dimension"));
    fake.setFault({ kind: "dimensions", dimensions: 32, count: 10 });
    const err = await ingestDocument(deps(), id, job()).catch((e: unknown) => e);
    fake.setFault(null);
    expect(err).toBeInstanceOf(PermanentJobError);
    expect(await docRow(id)).toMatchObject({ status: "failed", error_reason: "dimension_mismatch" });
    expect((await docRow(id)).error_message).toMatch(/32.*64|64.*32/);
    expect((await q("select count(*)::int as n from chunks where document_id = $1", [id])).rows[0].n).toBe(0);
    expect((await q("select count(*)::int as n from embedding_cache")).rows[0].n).toBe(0);
  });

  it("insufficient_quota fails fast without retries", async () => {
    const id = await addDoc(text("quota"));
    const before = fake.stats.requests;
    fake.setFault({ kind: "insufficient_quota", count: 100 });
    const err = await ingestDocument(deps(), id, job()).catch((e: unknown) => e);
    fake.setFault(null);
    expect(err).toBeInstanceOf(PermanentJobError);
    expect(fake.stats.requests - before).toBe(1);
    expect(await docRow(id)).toMatchObject({ status: "failed", error_reason: "quota_exhausted" });
  });

  it("500s are retried and then succeed", async () => {
    const id = await addDoc(text("flaky"));
    fake.setFault({ kind: "status", status: 500, count: 2 });
    const stats = await ingestDocument(deps(), id, job());
    expect(stats.outcome).toBe("completed");
    expect(stats.embedding_requests).toBe(3);
    expect(await docRow(id)).toMatchObject({ status: "completed", error_reason: null });
  });

  it("an outage beyond the retries leaves the document for the job's next attempt, then fails it on the last", async () => {
    const id = await addDoc(text("outage"));
    fake.setFault({ kind: "status", status: 503, count: 100 });
    const first = await ingestDocument(deps(), id, job(1, 2)).catch((e: unknown) => e);
    expect(first).not.toBeInstanceOf(PermanentJobError); // transient: graphile-worker retries the job
    expect(await docRow(id)).toMatchObject({ status: "processing" });
    expect((await docRow(id)).error_message).toMatch(/attempt 1 of 2 failed/);
    const last = await ingestDocument(deps(), id, job(2, 2)).catch((e: unknown) => e);
    fake.setFault(null);
    expect(last).toBeInstanceOf(Error);
    expect(await docRow(id)).toMatchObject({ status: "failed", error_reason: "transient" });
  });
});

describe("a worker killed mid-document", () => {
  it("leaves the old version intact and the retry completes it without duplicates", async () => {
    const id = await addDoc(text("first"));
    await ingestDocument(deps(), id, job());
    const v1 = (await q("select id, content from chunks where document_id = $1 order by chunk_index", [id])).rows;
    expect(v1.length).toBeGreaterThan(2);

    // The edit enqueues a job; the worker that takes it hangs in the embedding call and is killed.
    const gw = t.cfg.BOTKIT_WORKER_SCHEMA;
    await q(`delete from ${gw}._private_jobs`); // jobs of the documents above, ingested directly
    await q("update documents set content = $2 where id = $1", [id, text("second")]);
    fake.setFault({ kind: "hang", count: 1000 });
    const before = fake.stats.requests;
    const cli = startCli(["run"], envFor(t.cfg, {
      EMBEDDING_PROVIDER: "openai", OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: fake.apiKey,
      EMBEDDING_MODEL: MODEL, EMBEDDING_DIMENSIONS: String(DIMS), CRONTAB_FILE: "/nonexistent",
    }));
    const deadline = Date.now() + 20_000;
    while (fake.stats.requests === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fake.stats.requests, cli.output()).toBeGreaterThan(before);
    cli.child.kill("SIGKILL");
    await cli.exited;
    fake.setFault(null);

    // Readers still see the complete old version.
    const afterKill = (await q("select id, content from chunks where document_id = $1 order by chunk_index", [id])).rows;
    expect(afterKill).toEqual(v1);
    expect((await docRow(id)).status).toBe("processing");
    const locked = (await q(`select locked_by from ${gw}._private_jobs where key = $1`, [`ingest_document:${id}`])).rows;
    expect(locked).toHaveLength(1);
    expect(locked[0].locked_by).not.toBeNull();

    // The dead worker's lock is released (as graphile-worker does once a lock expires) and another worker retries.
    await q(`select ${gw}.force_unlock_workers(array[$1::text])`, [locked[0].locked_by]);
    await q(`update ${gw}._private_jobs set run_at = now() where key = $1`, [`ingest_document:${id}`]);
    const worker = await startWorker(
      { ...t.cfg, EMBEDDING_PROVIDER: "openai", OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: fake.apiKey, EMBEDDING_MODEL: MODEL, EMBEDDING_DIMENSIONS: DIMS },
      createLogger({ level: "error" }),
      { crontab: "" },
    );
    try {
      const end = Date.now() + 20_000;
      while ((await docRow(id)).status !== "completed" && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await worker.stop("test done");
    }
    expect(await docRow(id)).toMatchObject({ status: "completed", error_reason: null });
    const v2 = (await q("select chunk_index, content from chunks where document_id = $1 order by chunk_index", [id])).rows;
    expect(v2.map((r) => r.chunk_index)).toEqual(v2.map((_, i) => i));
    expect(v2.every((r) => !r.content.includes("first edition"))).toBe(true);
    expect(v2.some((r) => r.content.includes("second edition"))).toBe(true);
    const perChunk = (await q(
      "select count(e.id)::int as n from chunks c left join embeddings e on e.chunk_id = c.id and e.model = $2 where c.document_id = $1 group by c.id",
      [id, MODEL])).rows;
    expect(perChunk.every((r) => r.n === 1)).toBe(true);
    expect((await q(`select count(*)::int as n from ${gw}._private_jobs`)).rows[0].n).toBe(0);
  });
});
