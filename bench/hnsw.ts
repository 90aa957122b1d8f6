// Benchmark 5: writing vectors through a live HNSW index vs. loading them without it and
// building the index afterwards (what model-index.ts suggests for bulk loads), plus the
// build time of the same index over halfvec(384).
import type pg from "pg";
import type { Config } from "../src/config.ts";
import { ensureModelIndex, modelIndexName } from "../src/ingest/model-index.ts";
import { copyEmbeddings, type ChunkVector } from "./copy-embeddings.ts";

const DIMENSIONS = 384;
const LIVE_MODEL = "bench-hnsw-live";
const BULK_MODEL = "bench-hnsw-bulk";

export interface HnswResult {
  vectors: number;
  /** "baseline": the live-index figure is benchmark 1's COPY baseline (same vectors). */
  liveSource: "baseline" | "measured";
  live: { copyMs: number; vectorsPerSecond: number };
  bulk: { copyMs: number; buildMs: number; totalMs: number; vectorsPerSecond: number };
  /** live time / (bulk copy + build) time. */
  speedup: number;
  halfvec: { buildMs: number; vectorBuildMs: number; ratio: number; indexMb: number; vectorIndexMb: number } | null;
  maintenanceWorkMem: string;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

/**
 * `rows` are (real chunk id, ingested vector) pairs. `liveMs`: the time benchmark 1's
 * baseline took to COPY exactly these rows through a live index; when absent it is
 * measured here.
 */
export async function hnswBench(pool: pg.Pool, cfg: Config, rows: readonly ChunkVector[], liveMs: number | null, withHalfvec: boolean): Promise<HnswResult> {
  const client = await pool.connect();
  try {
    await client.query("delete from embeddings where model = any($1)", [[LIVE_MODEL, BULK_MODEL]]);
    const mwm = (await client.query<{ v: string }>("select current_setting('maintenance_work_mem') as v")).rows[0]!.v;

    // Live: the model's index exists (as ensureModelIndex leaves it at worker start), then COPY.
    const liveSource = liveMs === null ? "measured" : "baseline";
    if (liveMs === null) {
      await ensureModelIndex(pool, cfg.BOTKIT_SCHEMA, LIVE_MODEL, DIMENSIONS);
      await client.query("checkpoint").catch(() => {});
      [, liveMs] = await timed(() => copyEmbeddings(client, LIVE_MODEL, DIMENSIONS, rows));
    }

    // Bulk: no index for the model, COPY, then ensureModelIndex builds it (create index concurrently).
    await client.query("checkpoint").catch(() => {});
    const [, bulkCopyMs] = await timed(() => copyEmbeddings(client, BULK_MODEL, DIMENSIONS, rows));
    const [, buildMs] = await timed(() => ensureModelIndex(pool, cfg.BOTKIT_SCHEMA, BULK_MODEL, DIMENSIONS));

    let halfvec: HnswResult["halfvec"] = null;
    if (withHalfvec) {
      const name = `${modelIndexName(BULK_MODEL, DIMENSIONS)}_half`;
      const [, halfMs] = await timed(() =>
        client.query(
          `create index concurrently ${name} on embeddings using hnsw ((embedding::halfvec(${DIMENSIONS})) halfvec_cosine_ops)
            where model = ${client.escapeLiteral(BULK_MODEL)}`,
        ),
      );
      const sizes = await client.query<{ half: string; vec: string }>(
        `select pg_relation_size(to_regclass($1))::text as half, pg_relation_size(to_regclass($2))::text as vec`,
        [name, modelIndexName(BULK_MODEL, DIMENSIONS)],
      );
      halfvec = {
        buildMs: halfMs,
        vectorBuildMs: buildMs,
        ratio: halfMs / buildMs,
        indexMb: Number(sizes.rows[0]!.half) / 2 ** 20,
        vectorIndexMb: Number(sizes.rows[0]!.vec) / 2 ** 20,
      };
      await client.query(`drop index ${name}`);
    }
    await client.query(`drop index if exists ${modelIndexName(LIVE_MODEL, DIMENSIONS)}`);
    await client.query(`drop index if exists ${modelIndexName(BULK_MODEL, DIMENSIONS)}`);
    await client.query("delete from embeddings where model = any($1)", [[LIVE_MODEL, BULK_MODEL]]);

    const n = rows.length;
    return {
      vectors: n,
      liveSource,
      live: { copyMs: liveMs, vectorsPerSecond: n / (liveMs / 1000) },
      bulk: { copyMs: bulkCopyMs, buildMs, totalMs: bulkCopyMs + buildMs, vectorsPerSecond: n / ((bulkCopyMs + buildMs) / 1000) },
      speedup: liveMs / (bulkCopyMs + buildMs),
      halfvec,
      maintenanceWorkMem: mwm,
    };
  } finally {
    client.release();
  }
}
