// IngestDeps for running src/ingest/pipeline.ts in the bench process, built the way the
// ingest_document task builds them (settings from the table, guarded fetch, storage roots).
import type pg from "pg";
import type { DatabasePool } from "slonik";
import type { IngestDeps } from "../src/ingest/pipeline.ts";
import { defaultFetch } from "../src/ingest/sources.ts";
import type { Embedder } from "../src/ingest/types.ts";
import { createLogger } from "../src/log.ts";
import { loadSettings } from "../src/settings.ts";

export async function pipelineDeps(pool: pg.Pool, db: DatabasePool, embedder: Embedder, storageRoot: string): Promise<IngestDeps> {
  const settings = await loadSettings(pool, {});
  return {
    db,
    pg: pool,
    embedder,
    log: createLogger({ level: "warn", write: (line) => process.stderr.write(`${line}\n`) }),
    settings: {
      chunkSizeTokens: settings.chunk_size_tokens,
      chunkOverlapTokens: settings.chunk_overlap_tokens,
      prependTitle: settings.chunk_prepend_title,
    },
    sources: {
      storageRoots: [storageRoot],
      maxBytes: settings.max_document_bytes,
      pdfTimeoutMs: settings.pdf_timeout_seconds * 1000,
      fetch: defaultFetch([]),
    },
  };
}
