// Benchmarks 1 and 2: end-to-end ingestion of the generated corpus by a worker child
// process (local embedder), its binary-COPY baseline, and a re-ingest of unchanged
// documents.
import pg from "pg";
import type { Config } from "../src/config.ts";
import { LOCAL_MODEL } from "../src/ingest/embed/local.ts";
import { ensureModelIndex, modelIndexName } from "../src/ingest/model-index.ts";
import { copyEmbeddings, readChunkVectors, type ChunkVector } from "./copy-embeddings.ts";
import { BackendCpu, cpuSeconds } from "./cpu.ts";
import type { CorpusDocument } from "./corpus.ts";
import type { WorkerProcess } from "./worker-process.ts";

export const BASELINE_MODEL = "bench-copy-baseline";
const DIMENSIONS = 384;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Inserts all document rows in one statement; the statement trigger enqueues one job per row. */
export async function insertDocuments(pool: pg.Pool, docs: readonly CorpusDocument[]): Promise<void> {
  await pool.query(
    `insert into documents (title, source_type, file_path, mime_type)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
    [docs.map((d) => d.title), docs.map((d) => d.source_type), docs.map((d) => d.file_path), docs.map((d) => d.mime_type)],
  );
}

/** Resolves once the worker's LISTEN connection is up (it takes jobs from then on). */
export async function waitForWorkerReady(pool: pg.Pool, worker: WorkerProcess, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const res = await pool.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where datname = current_database() and application_name = 'botkit-worker' and query like 'LISTEN "jobs:insert"%'`,
    );
    if (res.rows[0]!.n > 0) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`worker process ${worker.pid} did not start listening within ${timeoutMs} ms`);
    await Promise.race([sleep(100), worker.exited]);
  }
}

export interface WaitResult {
  ms: number;
  completed: number;
  failed: number;
  /** Highest VmRSS seen while polling (MB). */
  sampledRssMb: number;
  /** CPU seconds used during the phase by the worker process and by its PostgreSQL backends. */
  cpu: { worker: number | null; postgres: number | null };
}

/**
 * Runs `kickoff` (which makes documents pending) and polls until no document is pending
 * or processing. The clock starts right before `kickoff`.
 */
export async function ingestPhase(pool: pg.Pool, worker: WorkerProcess, kickoff: () => Promise<void>, timeoutMs: number): Promise<WaitResult> {
  const backends = new BackendCpu(pool, "botkit-worker");
  await backends.start();
  const workerCpu0 = worker.cpuSeconds();
  const started = performance.now();
  await kickoff();
  const done = await waitForDocuments(pool, worker, started, timeoutMs, () => backends.sample());
  await backends.sample();
  const workerCpu1 = worker.cpuSeconds();
  return {
    ...done,
    cpu: { worker: workerCpu0 !== null && workerCpu1 !== null ? workerCpu1 - workerCpu0 : null, postgres: backends.total() },
  };
}

/** Polls until no document is pending or processing. */
export async function waitForDocuments(
  pool: pg.Pool,
  worker: WorkerProcess,
  started: number,
  timeoutMs: number,
  onPoll: () => Promise<void> = async () => {},
): Promise<Omit<WaitResult, "cpu">> {
  let sampledRssMb = 0;
  for (;;) {
    await onPoll();
    const res = await pool.query<{ open: number; completed: number; failed: number }>(
      `select count(*) filter (where status in ('pending', 'processing'))::int as open,
              count(*) filter (where status = 'completed')::int as completed,
              count(*) filter (where status = 'failed')::int as failed
         from documents`,
    );
    const row = res.rows[0]!;
    const mem = worker.memory();
    if (mem) sampledRssMb = Math.max(sampledRssMb, mem.rssMb);
    if (row.open === 0) return { ms: performance.now() - started, completed: row.completed, failed: row.failed, sampledRssMb };
    if (performance.now() - started > timeoutMs) {
      throw new Error(`ingestion did not finish within ${Math.round(timeoutMs / 1000)} s (${row.open} documents still pending/processing; set BENCH_TIMEOUT_S)`);
    }
    await Promise.race([sleep(250), worker.exited]);
  }
}

export interface IngestTotals {
  documents: number;
  chunks: number;
  embeddings: number;
  embedded: number;
  cacheHits: number;
  tokens: number;
  /** Sum of last_ingest.ms over documents (job time inside the pipeline). */
  pipelineMs: number;
  bySource: Record<string, { documents: number; failed: number; chunks: number; pipelineMs: number }>;
  failures: { reason: string | null; message: string | null; count: number }[];
}

export async function ingestTotals(pool: pg.Pool): Promise<IngestTotals> {
  const totals = await pool.query<{ documents: number; embedded: number; cache_hits: number; tokens: number; ms: number }>(
    `select count(*)::int as documents,
            coalesce(sum((metadata #>> '{last_ingest,embedded}')::int), 0)::int as embedded,
            coalesce(sum((metadata #>> '{last_ingest,cache_hits}')::int), 0)::int as cache_hits,
            coalesce(sum((metadata #>> '{last_ingest,tokens}')::bigint), 0)::float8 as tokens,
            coalesce(sum((metadata #>> '{last_ingest,ms}')::bigint), 0)::float8 as ms
       from documents`,
  );
  const counts = await pool.query<{ chunks: number; embeddings: number }>(
    `select (select count(*) from chunks)::int as chunks,
            (select count(*) from embeddings where model = $1)::int as embeddings`,
    [LOCAL_MODEL],
  );
  const bySource = await pool.query<{ source_type: string; documents: number; failed: number; chunks: number; ms: number }>(
    `select d.source_type, count(*)::int as documents, count(*) filter (where d.status = 'failed')::int as failed,
            coalesce(sum((d.metadata #>> '{last_ingest,chunks}')::int), 0)::int as chunks,
            coalesce(sum((d.metadata #>> '{last_ingest,ms}')::bigint), 0)::float8 as ms
       from documents d group by d.source_type order by d.source_type`,
  );
  const failures = await pool.query<{ reason: string | null; message: string | null; count: number }>(
    `select error_reason as reason, min(error_message) as message, count(*)::int as count
       from documents where status = 'failed' group by error_reason order by count desc limit 10`,
  );
  const t = totals.rows[0]!;
  return {
    documents: t.documents,
    chunks: counts.rows[0]!.chunks,
    embeddings: counts.rows[0]!.embeddings,
    embedded: t.embedded,
    cacheHits: t.cache_hits,
    tokens: t.tokens,
    pipelineMs: t.ms,
    bySource: Object.fromEntries(
      bySource.rows.map((r) => [r.source_type, { documents: r.documents, failed: r.failed, chunks: r.chunks, pipelineMs: r.ms }]),
    ),
    failures: failures.rows,
  };
}

export interface CopyBaseline {
  vectors: number;
  ms: number;
  vectorsPerSecond: number;
  index: string;
  /** CPU seconds of the COPY's backend and of this (encoding) process during the COPY. */
  cpu: { postgres: number | null; client: number };
}

/**
 * Binary COPY of the ingested vectors (the local model's vectors of every chunk, read
 * back from embedding_cache) into `embeddings` under a second model name, with that
 * model's partial HNSW index present, like the ingest had. The rows and the index are
 * removed afterwards.
 */
export async function copyBaseline(pool: pg.Pool, cfg: Config, limit?: number): Promise<{ baseline: CopyBaseline; rows: ChunkVector[] }> {
  const client = await pool.connect();
  try {
    const backendPid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
    const rows = await readChunkVectors(
      client,
      `select c.id, ec.embedding from chunks c
         join embedding_cache ec on ec.content_hash = c.content_hash and ec.model = ${client.escapeLiteral(LOCAL_MODEL)} and ec.dimensions = ${DIMENSIONS}
        order by c.id${limit !== undefined ? ` limit ${limit}` : ""}`,
    );
    const index = await ensureModelIndex(pool, cfg.BOTKIT_SCHEMA, BASELINE_MODEL, DIMENSIONS);
    await client.query("checkpoint").catch(() => {}); // needs superuser-ish rights; best effort
    const pg0 = cpuSeconds(backendPid);
    const client0 = process.cpuUsage();
    const started = performance.now();
    await copyEmbeddings(client, BASELINE_MODEL, DIMENSIONS, rows);
    const ms = performance.now() - started;
    const pg1 = cpuSeconds(backendPid);
    const clientCpu = process.cpuUsage(client0);
    await client.query(`drop index if exists ${modelIndexName(BASELINE_MODEL, DIMENSIONS)}`);
    await client.query("delete from embeddings where model = $1", [BASELINE_MODEL]);
    return {
      baseline: {
        vectors: rows.length,
        ms,
        vectorsPerSecond: rows.length / (ms / 1000),
        index,
        cpu: { postgres: pg0 !== null && pg1 !== null ? pg1 - pg0 : null, client: (clientCpu.user + clientCpu.system) / 1e6 },
      },
      rows,
    };
  } finally {
    client.release();
  }
}
