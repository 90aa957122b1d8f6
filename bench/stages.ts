// Optional diagnostic (BENCH_PROFILE=1): where an ingest job's time goes, per source type,
// on a sample of the corpus after benchmark 1, one document at a time in this process.
// Stages are timed by calling the pipeline's own building blocks in order (source load =
// read + extract, chunkDocument, embedInput + contentHash, local embed, storeEmbeddings),
// then the whole ingestDocument() twice: on a fresh copy of the row (first-ingest path;
// its texts are cached, so this isolates the database side) and on the unchanged row
// (re-ingest path). `swap` = ingestDocument wall time - last_ingest.ms, i.e. the part
// pipeline.ts runs after it stamps stats.ms: store.swapChunks (chunk + embedding
// inserts through the HNSW index, status update), or store.markUnchanged when the
// document's fingerprint matches its last ingest.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { PDFParse } from "pdf-parse";
import { projectRoot, type Config } from "../src/config.ts";
import { createPgPool, createSlonikPool } from "../src/db/pool.ts";
import { chunkDocument } from "../src/ingest/chunk.ts";
import { createLocalEmbedder } from "../src/ingest/embed/local.ts";
import { extractPdf } from "../src/ingest/extract/pdf.ts";
import { contentHash, embedInput } from "../src/ingest/hash.ts";
import { ingestDocument } from "../src/ingest/pipeline.ts";
import { sourceFor } from "../src/ingest/sources.ts";
import * as store from "../src/ingest/store.ts";
import { loadSettings } from "../src/settings.ts";
import { pipelineDeps } from "./pipeline-deps.ts";

export interface StageRow {
  kind: string;
  docs: number;
  chunks: number;
  /** Mean ms per document. */
  extract: number;
  chunk: number;
  hash: number;
  embed: number;
  storeEmbeddings: number;
  firstIngest: number;
  firstSwap: number;
  reingest: number;
  reingestSwap: number;
}

export interface StageProfile {
  perKind: StageRow[];
  pdf: {
    /** extractPdf() of the 2-page, 1.3 KB samples/trailhead-manual.pdf: the fixed cost per PDF (median of 5). */
    tinyExtractMs: number;
    /** The same bytes parsed by pdf-parse in this thread (no worker), median of 5 after warm-up. */
    tinyInThreadMs: number;
    /** Sampled corpus PDFs: extractPdf() vs in-thread pdf-parse, mean ms per document. */
    sampleExtractMs: number;
    sampleInThreadMs: number;
  };
  loadSettingsMs: number;
  /** Wall time of the whole profile (not part of the default run). */
  ms: number;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

async function inThreadPdf(data: Uint8Array): Promise<void> {
  const parser = new PDFParse({ data: data.slice(), isEvalSupported: false, useSystemFonts: false });
  try {
    await parser.getText({ pageJoiner: "" });
    await parser.getInfo();
  } finally {
    await parser.destroy();
  }
}

export async function stageProfile(cfg: Config, storageRoot: string, perKind: number): Promise<StageProfile> {
  const profileStarted = performance.now();
  const pool = createPgPool(cfg, 4);
  const db = await createSlonikPool(cfg, 4);
  try {
    const embedder = createLocalEmbedder();
    const deps = await pipelineDeps(pool, db, embedder, storageRoot);
    const signal = new AbortController().signal;
    const job = { signal, attempts: 1, maxAttempts: 1 };

    const settingsTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await loadSettings(pool, {});
      settingsTimes.push(performance.now() - t);
    }

    const kinds = (await pool.query<{ source_type: string }>("select distinct source_type from documents order by 1")).rows.map((r) => r.source_type);
    const rows: StageRow[] = [];
    const pdfPaths: string[] = [];
    for (const kind of kinds) {
      const ids = (
        await pool.query<{ id: string }>("select id::text from documents where source_type = $1 and status = 'completed' order by id limit $2", [kind, perKind])
      ).rows.map((r) => r.id);
      const t: Record<Exclude<keyof StageRow, "kind" | "docs" | "chunks">, number[]> = {
        extract: [], chunk: [], hash: [], embed: [], storeEmbeddings: [], firstIngest: [], firstSwap: [], reingest: [], reingestSwap: [],
      };
      let chunkCount = 0;
      for (const id of ids) {
        const doc = (await store.loadDocument(db, id))!;
        if (kind === "pdf" && doc.file_path) pdfPaths.push(doc.file_path);
        let t0 = performance.now();
        const extracted = await sourceFor(doc).load(doc, { ...deps.sources, signal });
        t.extract.push(performance.now() - t0);
        t0 = performance.now();
        const chunks = chunkDocument(extracted, {
          maxTokens: deps.settings.chunkSizeTokens,
          overlapTokens: deps.settings.chunkOverlapTokens,
          countTokens: embedder.countTokens,
        });
        t.chunk.push(performance.now() - t0);
        chunkCount += chunks.length;
        t0 = performance.now();
        const title = doc.title || extracted.title || "";
        const prepared = chunks.map((c) => {
          const input = embedInput(c, title, deps.settings.prependTitle);
          return { input, hash: contentHash(input) };
        });
        t.hash.push(performance.now() - t0);
        t0 = performance.now();
        const result = await embedder.embed(prepared.map((p) => p.input));
        t.embed.push(performance.now() - t0);
        t0 = performance.now();
        await store.storeEmbeddings(pool, "bench-profile", embedder.dimensions, prepared.map((p, i) => ({ hash: p.hash, vector: result.vectors[i]! })));
        t.storeEmbeddings.push(performance.now() - t0);

        // First-ingest path on a copy of the row (status completed: the insert enqueues no job).
        const copy = await pool.query<{ id: string }>(
          `insert into documents (title, source_type, file_path, mime_type, status)
           select title, source_type, file_path, mime_type, 'completed' from documents where id = $1 returning id::text`,
          [id],
        );
        t0 = performance.now();
        const first = await ingestDocument(deps, copy.rows[0]!.id, job);
        const firstMs = performance.now() - t0;
        t.firstIngest.push(firstMs);
        t.firstSwap.push(firstMs - first.ms);

        t0 = performance.now();
        const again = await ingestDocument(deps, id, job);
        const againMs = performance.now() - t0;
        t.reingest.push(againMs);
        t.reingestSwap.push(againMs - again.ms);
      }
      rows.push({
        kind,
        docs: ids.length,
        chunks: chunkCount,
        extract: mean(t.extract),
        chunk: mean(t.chunk),
        hash: mean(t.hash),
        embed: mean(t.embed),
        storeEmbeddings: mean(t.storeEmbeddings),
        firstIngest: mean(t.firstIngest),
        firstSwap: mean(t.firstSwap),
        reingest: mean(t.reingest),
        reingestSwap: mean(t.reingestSwap),
      });
    }
    await pool.query("delete from embedding_cache where model = 'bench-profile'");

    // PDF: fixed cost of the worker-thread-per-document design vs parsing in this thread.
    const tiny = await readFile(path.join(projectRoot, "samples/trailhead-manual.pdf"));
    const tinyWorker: number[] = [];
    const tinyThread: number[] = [];
    await inThreadPdf(tiny); // warm-up: module load
    for (let i = 0; i < 5; i++) {
      let t0 = performance.now();
      await extractPdf(tiny);
      tinyWorker.push(performance.now() - t0);
      t0 = performance.now();
      await inThreadPdf(tiny);
      tinyThread.push(performance.now() - t0);
    }
    const sampleWorker: number[] = [];
    const sampleThread: number[] = [];
    for (const p of pdfPaths) {
      const bytes = await readFile(path.join(storageRoot, p));
      let t0 = performance.now();
      await extractPdf(bytes);
      sampleWorker.push(performance.now() - t0);
      t0 = performance.now();
      await inThreadPdf(bytes);
      sampleThread.push(performance.now() - t0);
    }
    return {
      perKind: rows,
      pdf: {
        tinyExtractMs: median(tinyWorker),
        tinyInThreadMs: median(tinyThread),
        sampleExtractMs: mean(sampleWorker),
        sampleInThreadMs: mean(sampleThread),
      },
      loadSettingsMs: mean(settingsTimes),
      ms: performance.now() - profileStarted,
    };
  } finally {
    await Promise.allSettled([pool.end(), db.end()]);
  }
}
