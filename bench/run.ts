// `npm run bench`: the benchmark suite. Every result is a ratio or share against a
// baseline measured in the same run, so numbers from different machines compare.
//
//   1. End-to-end ingestion (worker child process, local embedder) of a generated corpus,
//      against a binary COPY of as many vectors into the same table and index conditions.
//   2. Re-ingest of the unchanged corpus: texts embedded, and time against the first ingest.
//   3. Rate-limited OpenAI-compatible provider (loopback fake, scaled window): share of the
//      token budget used, 429s, failed documents.
//   4. Chunker vs LangChain's RecursiveCharacterTextSplitter (bench/chunk.bench.ts).
//   5. HNSW: COPY through a live index vs COPY then build; vector vs halfvec build time.
//
// Prints a table and writes bench/results.json (ignored by bench/.gitignore). Exits 1 only
// on errors; missed targets are marked MISSED. Sizes come from environment variables
// (defaults keep the run at about 3-4 minutes on 2 cores):
//   BENCH_DOCS=2000 BENCH_MB=50 BENCH_PDF_SHARE=0.15 BENCH_CONCURRENCY=4 BENCH_TIMEOUT_S=900
//   BENCH_RL_WINDOW_MS=10000 BENCH_RL_WINDOWS=4 BENCH_RL_TPM=1000000 BENCH_RL_RPM=3000 BENCH_RL_LATENCY_MS=150
//   BENCH_HNSW_VECTORS (unset: benchmark 5 reuses benchmark 1's baseline COPY of all ingested vectors as
//   its live-index figure; N: a separate live COPY of N vectors) BENCH_HALFVEC=1 BENCH_CHUNK_CHARS=5000000
//   BENCH_ONLY=ingest,reingest,ratelimit,unfurl,unfurlparse,chunker,hnsw  BENCH_UNFURL_ROUNDS=3   BENCH_KEEP=1 (keep the corpus directory)
//   BENCH_DATABASE_URL (server to use; the database is always botkit_bench), BENCH_RESULTS (JSON path)
//   BENCH_PROFILE=1 (add a per-stage time profile), BENCH_AUTOANALYZE=auto|0|1 (see autoanalyze.ts),
//   BENCH_WORKER_NODE_OPTIONS, BENCH_PDF_WORKERS: NODE_OPTIONS / PDF_WORKERS for the worker child (the
//   child inherits none of the worker's own variables from the shell, so runs are reproducible)
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { connectionStringFor } from "../src/db/pool.ts";
import { AutoAnalyze, serverAutovacuum, type AutoAnalyzeInfo } from "./autoanalyze.ts";
import { benchChunker, type ChunkerBenchResult } from "./chunk.bench.ts";
import { generateCorpus, type CorpusStats } from "./corpus.ts";
import { benchConfig, benchDatabaseUrl, ensureBenchDatabase, freshSchema, serverInfo } from "./db.ts";
import { hnswBench, type HnswResult } from "./hnsw.ts";
import type { ChunkVector } from "./copy-embeddings.ts";
import { copyBaseline, ingestPhase, ingestTotals, insertDocuments, waitForWorkerReady, type CopyBaseline, type IngestTotals, type WaitResult } from "./ingest.ts";
import { rateLimitBench, type RateLimitResult } from "./rate-limit.ts";
import { check, fmt, renderTable, type ReportRow } from "./report.ts";
import { stageProfile, type StageProfile } from "./stages.ts";
import { startWorkerProcess, type WorkerProcess } from "./worker-process.ts";
import type { UnfurlLinksResult } from "./unfurl-links.ts";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

// Same flags as the Dockerfile's NODE_OPTIONS and `npm start`: a small young generation and a
// capped old generation keep the worker's resident memory near 300 MB (measured 284 MB vs
// 633 MB with Node's defaults on the 2,000-document run).
const WORKER_NODE_OPTIONS = "--max-semi-space-size=4 --max-old-space-size=512";

const benchDir = path.dirname(fileURLToPath(import.meta.url));

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

const settings = {
  docs: Math.round(envNumber("BENCH_DOCS", 2000)),
  mb: envNumber("BENCH_MB", 50),
  pdfShare: Number(process.env.BENCH_PDF_SHARE ?? 0.15),
  concurrency: Math.round(envNumber("BENCH_CONCURRENCY", 4)),
  timeoutS: envNumber("BENCH_TIMEOUT_S", 900),
  rlWindowMs: envNumber("BENCH_RL_WINDOW_MS", 10_000),
  rlWindows: envNumber("BENCH_RL_WINDOWS", 4),
  rlTpm: envNumber("BENCH_RL_TPM", 1_000_000),
  rlRpm: envNumber("BENCH_RL_RPM", 3_000),
  rlLatencyMs: Number(process.env.BENCH_RL_LATENCY_MS ?? 150),
  /** 0: reuse benchmark 1's baseline (all ingested vectors) as the live-index measurement. */
  hnswVectors: process.env.BENCH_HNSW_VECTORS ? Math.round(envNumber("BENCH_HNSW_VECTORS", 20_000)) : 0,
  halfvec: process.env.BENCH_HALFVEC !== "0",
  chunkChars: Math.round(envNumber("BENCH_CHUNK_CHARS", 5_000_000)),
  only: new Set((process.env.BENCH_ONLY ?? "ingest,reingest,ratelimit,unfurl,unfurlparse,chunker,hnsw").split(",").map((s) => s.trim()).filter(Boolean)),
  keep: process.env.BENCH_KEEP === "1",
  profile: process.env.BENCH_PROFILE === "1",
  /** auto: emulate autoanalyze when the server runs with autovacuum = off; 1: always; 0: never. */
  autoAnalyze: process.env.BENCH_AUTOANALYZE ?? "auto",
  profileDocs: Math.round(envNumber("BENCH_PROFILE_DOCS", 12)),
  resultsPath: process.env.BENCH_RESULTS ?? path.join(benchDir, "results.json"),
};

const say = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

interface IngestResult {
  corpus: CorpusStats;
  worker: { pid: number; bootMs: number; bootRssMb: number | null; peakRssMb: number | null; peakRssAfterFirstIngestMb: number | null; sampledRssMb: number; warnings: { count: number; first: string[] }; exitCode: number | null };
  first: { ms: number; completed: number; failed: number; totals: IngestTotals; chunksPerSecond: number; mbPerSecond: number; cpu: WaitResult["cpu"] };
  baseline: CopyBaseline | null;
  reingest: { ms: number; completed: number; failed: number; embedded: number; cacheHits: number; ratio: number; totals: IngestTotals; cpu: WaitResult["cpu"] } | null;
}

interface Results {
  startedAt: string;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  ingest?: IngestResult;
  rateLimit?: RateLimitResult;
  chunker?: ChunkerBenchResult;
  unfurl?: UnfurlLinksResult;
  /** Printed report of bench/unfurl-parse.bench.ts (parse speed and accuracy vs the peers). */
  unfurlParseReport?: string;
  hnsw?: HnswResult;
  profile?: StageProfile;
  autoAnalyze?: AutoAnalyzeInfo;
  errors: { bench: string; error: string }[];
  rows: ReportRow[];
  totalMs: number;
}

function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

async function runIngest(
  url: string,
  storageRoot: string,
  results: Results,
  pool: pg.Pool,
): Promise<{ result: IngestResult; rows: ChunkVector[] | null }> {
  const cfg = benchConfig(url, "bench");
  say(`schema ${cfg.BOTKIT_SCHEMA}/${cfg.BOTKIT_WORKER_SCHEMA}: migrating`);
  await freshSchema(cfg);
  say(`generating ${settings.docs} documents (~${settings.mb} MB) in ${storageRoot}`);
  const corpus = await generateCorpus({ dir: storageRoot, documents: settings.docs, totalBytes: settings.mb * 1e6, pdfShare: settings.pdfShare });
  say(`corpus: ${fmt.int(corpus.stats.documents)} documents, ${fmt.mb(corpus.stats.bytes / 1e6)} in ${fmt.ms(corpus.stats.ms)}`);

  const worker: WorkerProcess = startWorkerProcess({
    DATABASE_URL: cfg.DATABASE_URL,
    BOTKIT_SCHEMA: cfg.BOTKIT_SCHEMA,
    BOTKIT_WORKER_SCHEMA: cfg.BOTKIT_WORKER_SCHEMA,
    WORKER_CONCURRENCY: String(settings.concurrency),
    LOG_LEVEL: "warn",
    BOTKIT_STORAGE_ROOTS: storageRoot,
    EMBEDDING_PROVIDER: "local",
    CRONTAB_FILE: path.join(storageRoot, "no-crontab"),
    // The worker's production V8 settings (Dockerfile, `npm start`) unless overridden.
    NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS ?? WORKER_NODE_OPTIONS,
    ...(process.env.BENCH_PDF_WORKERS ? { PDF_WORKERS: process.env.BENCH_PDF_WORKERS } : {}),
  });
  let stopped = false;
  try {
    const bootMs = await waitForWorkerReady(pool, worker);
    const memAtBoot = worker.memory();
    say(`worker pid ${worker.pid} ready after ${fmt.ms(bootMs)}; inserting ${corpus.documents.length} document rows`);
    await pool.query("checkpoint").catch(() => {});
    const first = await ingestPhase(pool, worker, () => insertDocuments(pool, corpus.documents), settings.timeoutS * 1000);
    const firstTotals = await ingestTotals(pool);
    const memAfterFirst = worker.memory();
    say(`ingest: ${fmt.int(firstTotals.chunks)} chunks in ${fmt.s(first.ms)} (${first.failed} failed), VmHWM ${memAfterFirst ? fmt.mb(memAfterFirst.hwmMb) : "n/a"}`);

    let reingest: IngestResult["reingest"] = null;
    let sampled = first.sampledRssMb;
    if (settings.only.has("reingest")) {
      const again = await ingestPhase(pool, worker, async () => void (await pool.query("update documents set status = 'pending'")), settings.timeoutS * 1000);
      const totals = await ingestTotals(pool);
      sampled = Math.max(sampled, again.sampledRssMb);
      reingest = {
        ms: again.ms,
        completed: again.completed,
        failed: again.failed,
        embedded: totals.embedded,
        cacheHits: totals.cacheHits,
        ratio: again.ms / first.ms,
        totals,
        cpu: again.cpu,
      };
      say(`re-ingest: ${fmt.s(again.ms)}, ${totals.embedded} texts embedded`);
    }
    const mem = worker.memory();
    const exitCode = await worker.stop();
    stopped = true;

    let baseline: CopyBaseline | null = null;
    let rows: ChunkVector[] | null = null;
    try {
      say(`baseline: binary COPY of ${fmt.int(firstTotals.chunks)} vectors into embeddings (partial HNSW index present)`);
      ({ baseline, rows } = await copyBaseline(pool, cfg));
    } catch (err) {
      results.errors.push({ bench: "ingest-baseline", error: errorText(err) });
    }
    const result: IngestResult = {
      corpus: corpus.stats,
      worker: {
        pid: worker.pid,
        bootMs,
        bootRssMb: memAtBoot?.rssMb ?? null,
        peakRssMb: mem?.hwmMb ?? null,
        peakRssAfterFirstIngestMb: memAfterFirst?.hwmMb ?? null,
        sampledRssMb: sampled,
        warnings: worker.problems(),
        exitCode,
      },
      first: {
        ms: first.ms,
        completed: first.completed,
        failed: first.failed,
        totals: firstTotals,
        chunksPerSecond: firstTotals.chunks / (first.ms / 1000),
        mbPerSecond: corpus.stats.bytes / 1e6 / (first.ms / 1000),
        cpu: first.cpu,
      },
      baseline,
      reingest,
    };
    return { result, rows };
  } finally {
    if (!stopped) await worker.stop(5_000);
  }
}

function rowsFor(r: Results): ReportRow[] {
  const rows: ReportRow[] = [];
  const ing = r.ingest;
  if (ing) {
    const t = ing.first.totals;
    const b = ing.baseline;
    const share = b ? ing.first.chunksPerSecond / b.vectorsPerSecond : NaN;
    rows.push({
      id: "1a",
      benchmark: `E2E ingest, local embedder, worker child (concurrency ${settings.concurrency})`,
      measured:
        `${fmt.int(t.documents)} docs, ${fmt.mb(ing.corpus.bytes / 1e6)}, ${fmt.int(t.chunks)} chunks in ${fmt.s(ing.first.ms)}\n` +
        `= ${fmt.num(ing.first.chunksPerSecond)} chunks/s (${fmt.num(ing.first.mbPerSecond, 2)} MB/s)`,
      baseline: b ? `binary COPY of ${fmt.int(b.vectors)} 384-d vectors with partial HNSW index: ${fmt.s(b.ms)} = ${fmt.num(b.vectorsPerSecond)} vectors/s` : "COPY baseline failed",
      result: b ? `${fmt.pct(share)} of COPY rate` : "n/a",
      target: ">= 50%",
      status: b ? check(share, ">=", 0.5) : "ERROR",
    });
    rows.push({
      id: "1b",
      benchmark: "E2E ingest: failed documents",
      measured: `${ing.first.failed} of ${fmt.int(t.documents)}` + (t.failures.length ? ` (${t.failures.map((f) => `${f.reason}: ${f.count}`).join(", ")})` : ""),
      baseline: "-",
      result: fmt.pct(ing.first.failed / Math.max(1, t.documents)),
      target: "0",
      status: check(ing.first.failed, "==", 0),
    });
    rows.push({
      id: "1c",
      benchmark: "E2E ingest: worker peak RSS",
      measured:
        ing.worker.peakRssMb !== null
          ? `VmHWM ${fmt.mb(ing.worker.peakRssMb)} (${fmt.mb(ing.worker.peakRssAfterFirstIngestMb ?? NaN)} after the 1st ingest)`
          : "/proc not readable",
      baseline: ing.worker.bootRssMb !== null ? `idle after boot: VmRSS ${fmt.mb(ing.worker.bootRssMb)}` : "-",
      result: ing.worker.peakRssMb !== null ? fmt.mb(ing.worker.peakRssMb) : "n/a",
      target: "< 300 MB",
      status: ing.worker.peakRssMb !== null ? check(ing.worker.peakRssMb, "<", 300) : "info",
    });
    const re = ing.reingest;
    if (re) {
      rows.push({
        id: "2a",
        benchmark: "Re-ingest unchanged: texts embedded",
        measured: `${fmt.int(re.embedded)} embedded, ${fmt.int(re.cacheHits)} cache hits, ${re.failed} failed`,
        baseline: `first ingest embedded ${fmt.int(t.embedded)}`,
        result: fmt.int(re.embedded),
        target: "0",
        status: check(re.embedded, "==", 0),
      });
      rows.push({
        id: "2b",
        benchmark: "Re-ingest unchanged: time",
        measured: `${fmt.s(re.ms)} for ${fmt.int(re.completed + re.failed)} docs`,
        baseline: `first ingest ${fmt.s(ing.first.ms)}`,
        result: `${fmt.pct(re.ratio)} of first`,
        target: "< 10%",
        status: check(re.ratio, "<", 0.1),
      });
    }
  }
  const rl = r.rateLimit;
  if (rl) {
    const realWindow = `${fmt.int(settings.rlTpm)} TPM / ${fmt.int(settings.rlRpm)} RPM scaled to ${fmt.int(rl.tokenLimit)} tok / ${rl.requestLimit} req per ${rl.windowMs / 1000} s`;
    rows.push({
      id: "3a",
      benchmark: `Rate-limited provider: tokens per window (${rl.model}, ${settings.rlLatencyMs} ms latency)`,
      measured: `${rl.windowTokens.length} full windows: ${rl.windowTokens.map((w) => fmt.int(w)).join(", ")} tokens; ${fmt.int(rl.tokens)} tokens, ${fmt.int(rl.requests)} requests, ${fmt.int(rl.documents)} docs in ${fmt.s(rl.ms)}`,
      baseline: `limit ${realWindow}`,
      result: `mean ${fmt.pct(rl.share)} (min ${fmt.pct(rl.minShare)}) of limit`,
      target: ">= 90%",
      status: rl.windowTokens.length > 0 ? check(rl.share, ">=", 0.9) : "ERROR",
    });
    rows.push({
      id: "3b",
      benchmark: "Rate-limited provider: 429 responses",
      measured: `${rl.status429} x 429, ${rl.retries} retries; max sliding-window tokens ${fmt.int(rl.maxSlidingTokens)}`,
      baseline: `${fmt.int(rl.requests)} requests`,
      result: fmt.pct(rl.status429 / Math.max(1, rl.requests)),
      target: "(report)",
      status: "info",
    });
    rows.push({
      id: "3c",
      benchmark: "Rate-limited provider: failed documents",
      measured: `${rl.failed} of ${fmt.int(rl.documents)}`,
      baseline: "-",
      result: String(rl.failed),
      target: "0",
      status: check(rl.failed, "==", 0),
    });
  }
  const ch = r.chunker;
  if (ch) {
    const tt = ch.langchainTiktoken;
    rows.push({
      id: "4a",
      benchmark: `Chunker vs LangChain RecursiveCharacterTextSplitter with js-tiktoken counting (512/77 tokens, ${ch.source}, first ${fmt.mb(tt.chars / 1e6)})`,
      measured: `ours ${fmt.ms(tt.oursMs)}`,
      baseline: `LangChain + js-tiktoken ${fmt.ms(tt.ms)} (${fmt.int(tt.chunks)} chunks)`,
      result: `${fmt.x(tt.ratio)} faster`,
      target: ">= 3x",
      status: check(tt.ratio, ">=", 3),
    });
    rows.push({
      id: "4b",
      benchmark: `Chunker vs LangChain given our own BPE counter (512/77 tokens, ${ch.source})`,
      measured: `ours ${fmt.ms(ch.ours.ms)} (${fmt.int(ch.ours.chunks)} chunks) on ${fmt.mb(ch.inputChars / 1e6)} chars`,
      baseline: `LangChain ${fmt.ms(ch.langchain.ms)} (${fmt.int(ch.langchain.chunks)} chunks)`,
      result: `${fmt.x(ch.ratio)} faster`,
      target: ">= 3x",
      status: check(ch.ratio, ">=", 3),
    });
  }
  const u = r.unfurl;
  if (u) {
    rows.push({
      id: "6",
      benchmark: `Unfurl ${fmt.int(u.links)} links via loopback (${u.pages} corpus pages), concurrency ${u.concurrency}: fetch, parse, cache write`,
      measured: `${fmt.s(u.ms)} = ${fmt.num(u.linksPerSecond)} links/s, ${u.failed} failed; unfurl process peak RSS ${fmt.mb(u.peakRssMb)}`,
      baseline: `same fetches without parsing or DB: ${fmt.num(u.baselinePerSecond)} links/s`,
      result: `${fmt.pct(u.share)} of fetch-only rate`,
      target: "(report)",
      status: u.failed === 0 ? "info" : "MISSED",
    });
  }
  const h = r.hnsw;
  if (h) {
    rows.push({
      id: "5a",
      benchmark: "HNSW: COPY through live index vs COPY then build",
      measured: `bulk: COPY ${fmt.s(h.bulk.copyMs)} + build ${fmt.s(h.bulk.buildMs)} = ${fmt.num(h.bulk.vectorsPerSecond)} vectors/s`,
      baseline: `live index${h.liveSource === "baseline" ? " (= 1a baseline)" : ""}: COPY ${fmt.int(h.vectors)} vectors in ${fmt.s(h.live.copyMs)} = ${fmt.num(h.live.vectorsPerSecond)} vectors/s`,
      result: `bulk path ${fmt.x(h.speedup)} faster`,
      target: "(report)",
      status: "info",
    });
    if (h.halfvec) {
      rows.push({
        id: "5b",
        benchmark: "HNSW build: halfvec(384) vs vector(384)",
        measured: `halfvec build ${fmt.s(h.halfvec.buildMs)}, ${fmt.mb(h.halfvec.indexMb)}`,
        baseline: `vector build ${fmt.s(h.halfvec.vectorBuildMs)}, ${fmt.mb(h.halfvec.vectorIndexMb)}`,
        result: `${fmt.pct(h.halfvec.ratio, 0)} of vector build time`,
        target: "(report)",
        status: "info",
      });
    }
  }
  for (const e of r.errors) {
    rows.push({ id: "!", benchmark: e.bench, measured: e.error.split("\n")[0]!.slice(0, 200), baseline: "-", result: "error", target: "-", status: "ERROR" });
  }
  return rows;
}

function details(r: Results): string {
  const out: string[] = [];
  const ing = r.ingest;
  if (ing) {
    const k = ing.corpus.byKind;
    out.push(
      `Corpus: ${Object.entries(k).map(([kind, v]) => `${kind} ${v.documents} docs/${fmt.mb(v.bytes / 1e6)}`).join(", ")}; generated in ${fmt.ms(ing.corpus.ms)} (not timed).`,
      `Ingest clock: from the INSERT of all document rows (worker already listening; its boot took ${fmt.ms(ing.worker.bootMs)}) until no document is pending/processing.`,
      `Pipeline time by source (sum of last_ingest.ms: job time including the chunk swap; wall x concurrency = ${fmt.s(ing.first.ms * settings.concurrency)}):`,
    );
    for (const [src, v] of Object.entries(ing.first.totals.bySource)) {
      const re = ing.reingest?.totals.bySource[src];
      out.push(
        `  ${src.padEnd(9)} ${String(v.documents).padStart(5)} docs ${fmt.int(v.chunks).padStart(7)} chunks  first ${fmt.s(v.pipelineMs).padStart(8)} (${fmt.num(v.pipelineMs / Math.max(1, v.documents), 0)} ms/doc)` +
          (re ? `  re-ingest ${fmt.s(re.pipelineMs).padStart(8)} (${fmt.num(re.pipelineMs / Math.max(1, re.documents), 0)} ms/doc)` : ""),
      );
    }
    out.push(
      `Job time not in last_ingest.ms (graphile-worker, loadSettings and the commit, per job): ` +
        `first ingest ${fmt.s(ing.first.ms * settings.concurrency - ing.first.totals.pipelineMs)} of ${fmt.s(ing.first.ms * settings.concurrency)} slot time` +
        (ing.reingest ? `, re-ingest ${fmt.s(ing.reingest.ms * settings.concurrency - ing.reingest.totals.pipelineMs)} of ${fmt.s(ing.reingest.ms * settings.concurrency)}` : "") +
        " (upper bound: includes idle slots at the tail).",
    );
    const cpu = (c: WaitResult["cpu"], ms: number) =>
      c.worker === null ? "n/a" : `worker ${fmt.num(c.worker)} s + PostgreSQL backends ${c.postgres === null ? "n/a" : `${fmt.num(c.postgres)} s`} = ${fmt.num((c.worker + (c.postgres ?? 0)) / (ms / 1000), 2)} cores busy on average`;
    out.push(`CPU, first ingest: ${cpu(ing.first.cpu, ing.first.ms)}.`);
    if (ing.reingest) out.push(`CPU, re-ingest: ${cpu(ing.reingest.cpu, ing.reingest.ms)}.`);
    if (ing.baseline) {
      out.push(
        `CPU, COPY baseline: PostgreSQL backend ${ing.baseline.cpu.postgres === null ? "n/a" : `${fmt.num(ing.baseline.cpu.postgres)} s`}, bench process (encoding) ${fmt.num(ing.baseline.cpu.client)} s, in ${fmt.s(ing.baseline.ms)}.`,
      );
    }
    out.push(`Tokens embedded in the first ingest: ${fmt.int(ing.first.totals.tokens)}; cache hits ${fmt.int(ing.first.totals.cacheHits)}.`);
    out.push(`Worker: pid ${ing.worker.pid}, exit code ${ing.worker.exitCode}, highest sampled VmRSS ${fmt.mb(ing.worker.sampledRssMb)}, ${ing.worker.warnings.count} warn/error log lines.`);
    for (const l of ing.worker.warnings.first.slice(0, 5)) out.push(`  ${l.slice(0, 300)}`);
    for (const f of ing.first.totals.failures) out.push(`  failed (${f.reason}, ${f.count}x): ${(f.message ?? "").slice(0, 200)}`);
  }
  const rl = r.rateLimit;
  if (rl) {
    out.push(
      `Rate limit: windows aligned to the first accepted request; only complete windows count. Throttled (client waits) ${fmt.s(rl.throttledMs)} in total; ` +
        `busiest window used ${fmt.pct(rl.requestShare)} of the request limit; statuses ${JSON.stringify(rl.byStatus)}.`,
    );
    for (const f of rl.failures) out.push(`  ${f.slice(0, 300)}`);
  }
  const p = r.profile;
  if (p) {
    out.push(
      `Stage profile (BENCH_PROFILE=1), mean ms per document, one document at a time in the bench process:`,
      `  ${"source".padEnd(9)} ${"docs".padStart(4)} ${"chunks".padStart(6)} ${"extract".padStart(8)} ${"chunk".padStart(7)} ${"hash".padStart(6)} ${"embed".padStart(7)} ${"storeEmb".padStart(8)} | ${"1st-ingest".padStart(10)} ${"swap".padStart(7)} | ${"re-ingest".padStart(9)} ${"swap".padStart(7)}`,
    );
    const n = (v: number, w: number) => fmt.num(v, 1).padStart(w);
    for (const k of p.perKind) {
      out.push(
        `  ${k.kind.padEnd(9)} ${String(k.docs).padStart(4)} ${String(k.chunks).padStart(6)} ${n(k.extract, 8)} ${n(k.chunk, 7)} ${n(k.hash, 6)} ${n(k.embed, 7)} ${n(k.storeEmbeddings, 8)} | ${n(k.firstIngest, 10)} ${n(k.firstSwap, 7)} | ${n(k.reingest, 9)} ${n(k.reingestSwap, 7)}`,
      );
    }
    out.push(
      `  (1st-ingest: ingestDocument() on a copy of the row, texts already cached, so no embedding. re-ingest: ingestDocument() on the unchanged row.`,
      `   swap = wall - last_ingest.ms: what pipeline.ts runs after stamping stats.ms, i.e. store.swapChunks, or store.markUnchanged when the fingerprint matches.)`,
      `  PDF: extractPdf() of the 2-page samples/trailhead-manual.pdf ${fmt.ms(p.pdf.tinyExtractMs)} vs ${fmt.ms(p.pdf.tinyInThreadMs)} parsing it with pdf-parse in-thread; ` +
        `sampled corpus PDFs ${fmt.ms(p.pdf.sampleExtractMs)} vs ${fmt.ms(p.pdf.sampleInThreadMs)} in-thread. loadSettings() per job: ${fmt.num(p.loadSettingsMs, 2)} ms. Profile took ${fmt.s(p.ms)}.`,
    );
  }
  if (r.autoAnalyze?.runs.length) {
    const byTime = new Map<number, string[]>();
    for (const run of r.autoAnalyze.runs) byTime.set(run.atS, [...(byTime.get(run.atS) ?? []), run.table]);
    out.push(`Emulated autoanalyze (s since start: tables): ${[...byTime].map(([t, tables]) => `${t}: ${tables.join(" ")}`).join("; ")}.`);
  }
  if (r.hnsw) out.push(`HNSW: maintenance_work_mem ${r.hnsw.maintenanceWorkMem}; indexes built with CREATE INDEX CONCURRENTLY (ensureModelIndex); vectors are the ingested local-hash-v1 vectors.`);
  return out.join("\n");
}

function autovacuumLine(a: AutoAnalyzeInfo | undefined): string {
  if (!a) return "";
  if (a.serverAutovacuum) return "autovacuum: on (server).";
  if (!a.emulated) return "autovacuum: OFF on this server and not emulated (BENCH_AUTOANALYZE=0): tables are never analyzed, plans use default estimates.";
  return (
    `autovacuum: OFF on this server; the bench emulates autoanalyze on its schemas every ${a.naptimeMs / 1000} s ` +
    `(threshold ${a.threshold} + ${a.scaleFactor} x rows; ${a.runs.length} ANALYZE runs, ${a.skipped} skipped on a busy lock). BENCH_AUTOANALYZE=0 measures without.`
  );
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const url = benchDatabaseUrl();
  await ensureBenchDatabase(url);
  const probeCfg = benchConfig(url, "bench");
  const pool = new pg.Pool({ connectionString: connectionStringFor(probeCfg, "botkit-bench"), max: 4 });
  pool.on("error", () => {});
  const cpus = os.cpus();
  const results: Results = {
    startedAt: new Date().toISOString(),
    machine: {
      cores: os.availableParallelism(),
      cpuModel: cpus[0]?.model ?? "unknown",
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
      memoryGb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      node: process.version,
      platform: `${os.type()} ${os.release()}`,
      postgres: await serverInfo(pool),
      database: `${new URL(url).host}/botkit_bench`,
    },
    settings: { ...settings, only: [...settings.only] },
    errors: [],
    rows: [],
    totalMs: 0,
  };
  const storageRoot = await mkdtemp(path.join(os.tmpdir(), "botkit-bench-"));
  const av = await serverAutovacuum(pool);
  const autoAnalyze = new AutoAnalyze(pool, ["bench", "bench_gw", "bench_rl", "bench_rl_gw"], {
    serverAutovacuum: av.on,
    emulated: settings.autoAnalyze === "1" || (settings.autoAnalyze === "auto" && !av.on),
    naptimeMs: av.naptimeMs,
    threshold: av.threshold,
    scaleFactor: av.scaleFactor,
  });
  results.autoAnalyze = autoAnalyze.info;
  autoAnalyze.start();
  try {
    let vectors: ChunkVector[] | null = null;
    if (settings.only.has("ingest")) {
      try {
        const out = await runIngest(url, storageRoot, results, pool);
        results.ingest = out.result;
        vectors = out.rows;
      } catch (err) {
        results.errors.push({ bench: "ingest", error: errorText(err) });
      }
    }
    if (settings.only.has("hnsw")) {
      if (!vectors) results.errors.push({ bench: "hnsw", error: "needs the ingest benchmark's chunks and vectors (BENCH_ONLY must include ingest)" });
      else {
        try {
          const reuse = settings.hnswVectors === 0 && results.ingest?.baseline;
          const rows = reuse ? vectors : vectors.slice(0, settings.hnswVectors || vectors.length);
          say(`HNSW: live index vs build after load, ${fmt.int(rows.length)} vectors${reuse ? " (live = baseline COPY)" : ""}`);
          results.hnsw = await hnswBench(pool, benchConfig(url, "bench"), rows, reuse ? results.ingest!.baseline!.ms : null, settings.halfvec);
        } catch (err) {
          results.errors.push({ bench: "hnsw", error: errorText(err) });
        }
      }
    }
    vectors = null;
    if (settings.profile && results.ingest) {
      try {
        say(`profile: pipeline stages on ${settings.profileDocs} documents per source type`);
        results.profile = await stageProfile(benchConfig(url, "bench"), storageRoot, settings.profileDocs);
      } catch (err) {
        results.errors.push({ bench: "profile", error: errorText(err) });
      }
    }
    if (settings.only.has("ratelimit")) {
      try {
        const cfg = benchConfig(url, "bench_rl");
        await freshSchema(cfg);
        say(`rate limit: ${settings.rlWindows} windows of ${settings.rlWindowMs / 1000} s against the fake provider`);
        results.rateLimit = await rateLimitBench(cfg, {
          tpm: settings.rlTpm,
          rpm: settings.rlRpm,
          latencyMs: settings.rlLatencyMs,
          windowMs: settings.rlWindowMs,
          windows: settings.rlWindows,
          concurrency: settings.concurrency,
          storageRoot,
        });
      } catch (err) {
        results.errors.push({ bench: "ratelimit", error: errorText(err) });
      }
    }
    if (settings.only.has("unfurl")) {
      try {
        const cfg = benchConfig(url, "bench_unfurl");
        await freshSchema(cfg);
        say("unfurl: 1,000 links through loopback at concurrency 20");
        // A child process with the worker's V8 flags, so the peak RSS reported is the unfurl path's own.
        const script = path.join(import.meta.dirname, "unfurl-links.ts");
        const { stdout } = await execFileAsync(process.execPath, [...WORKER_NODE_OPTIONS.split(" "), script, "bench_unfurl"], {
          env: { ...process.env, BENCH_DATABASE_URL: url },
          maxBuffer: 1 << 20,
        });
        results.unfurl = JSON.parse(stdout.trim().split("\n").at(-1)!) as UnfurlLinksResult;
      } catch (err) {
        results.errors.push({ bench: "unfurl", error: errorText(err) });
      }
    }
    if (settings.only.has("unfurlparse")) {
      try {
        say("unfurl parse speed and accuracy vs unfurl.js, open-graph-scraper, metascraper");
        const { stdout } = await execFileAsync(process.execPath, [path.join(import.meta.dirname, "unfurl-parse.bench.ts"), process.env.BENCH_UNFURL_ROUNDS ?? "3"], {
          maxBuffer: 16 << 20,
        });
        results.unfurlParseReport = stdout;
      } catch (err) {
        results.errors.push({ bench: "unfurlparse", error: errorText(err) });
      }
    }
    if (settings.only.has("chunker")) {
      try {
        say("chunker vs LangChain");
        results.chunker = await benchChunker({ targetChars: settings.chunkChars });
      } catch (err) {
        results.errors.push({ bench: "chunker", error: errorText(err) });
      }
    }
  } finally {
    await autoAnalyze.stop();
    await pool.end().catch(() => {});
    if (!settings.keep) await rm(storageRoot, { recursive: true, force: true });
    else say(`corpus kept in ${storageRoot}`);
  }

  results.totalMs = performance.now() - t0;
  results.rows = rowsFor(results);
  const m = results.machine;
  const pgInfo = m.postgres as Record<string, string>;
  process.stdout.write(
    [
      "",
      `botkit-worker benchmarks — ${results.startedAt}`,
      `Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGb} GB RAM, load average at start ${(m.loadAverage as number[]).join(" ")}; ${m.platform}; Node ${m.node}`,
      `PostgreSQL ${pgInfo.server_version} + pgvector ${pgInfo.pgvector} at ${m.database} (shared_buffers ${pgInfo.shared_buffers}, maintenance_work_mem ${pgInfo.maintenance_work_mem}, synchronous_commit ${pgInfo.synchronous_commit})`,
      autovacuumLine(results.autoAnalyze),
      "Every result is a ratio or share against a baseline measured in this run. MISSED marks a missed target (not an error).",
      "",
      renderTable(results.rows),
      "",
      details(results),
      ...(results.unfurlParseReport ? ["", "Link previews, parse only (bench/unfurl-parse.bench.ts):", results.unfurlParseReport] : []),
      "",
      `Total ${fmt.s(results.totalMs)}. Numbers: ${path.relative(process.cwd(), settings.resultsPath) || settings.resultsPath}`,
      "",
    ].join("\n"),
  );
  await writeFile(settings.resultsPath, JSON.stringify(results, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n");
  for (const e of results.errors) process.stderr.write(`bench: ${e.bench} failed:\n${e.error}\n`);
  return results.errors.length > 0 ? 1 : 0;
}

process.exitCode = await main().catch((err: unknown) => {
  process.stderr.write(`bench: ${errorText(err)}\n`);
  return 1;
});
