// ingest_document: source → extract → chunk → hash/diff → embed (only new text) → swap.
import type pg from "pg";
import type { DatabasePool } from "slonik";
import { PermanentJobError } from "../tasks/define.ts";
import type { Logger } from "../log.ts";
import { createHash } from "node:crypto";
import { chunkDocument } from "./chunk.ts";
import { diffChunks } from "./diff.ts";
import { contentHash, embedInput } from "./hash.ts";
import { sourceFor, type SourceDeps } from "./sources.ts";
import * as store from "./store.ts";
import { EmbeddingError, ExtractionError, type Embedder } from "./types.ts";

export interface IngestSettings {
  chunkSizeTokens: number;
  chunkOverlapTokens: number;
  prependTitle: boolean;
}

export interface IngestDeps {
  db: DatabasePool;
  pg: pg.Pool;
  embedder: Embedder;
  sources: Omit<SourceDeps, "signal">;
  settings: IngestSettings;
  log: Logger;
}

export interface IngestStats {
  outcome: "completed" | "unchanged" | "superseded" | "deleted" | "missing";
  source: string;
  chunks: number;
  kept: number;
  inserted: number;
  removed: number;
  embedded: number;
  cache_hits: number;
  tokens: number;
  embedding_requests: number;
  ms: number;
  [key: string]: unknown;
}

// Bump when extraction or chunking changes output, so unchanged documents are redone once.
const PIPELINE_VERSION = 1;

/**
 * Ingests one document. Permanent problems throw PermanentJobError (after marking the
 * document failed). A document whose source, file and settings match its last completed
 * ingest is not extracted again unless `force` is set.
 */
export async function ingestDocument(
  deps: IngestDeps,
  documentId: string,
  job: { signal: AbortSignal; attempts: number; maxAttempts: number; force?: boolean },
): Promise<IngestStats> {
  const started = performance.now();
  const doc = await store.loadDocument(deps.db, documentId);
  const empty = { kept: 0, inserted: 0, removed: 0, embedded: 0, cache_hits: 0, tokens: 0, embedding_requests: 0, chunks: 0 };
  if (!doc) return { outcome: "missing", source: "none", ...empty, ms: 0 };
  const source = sourceFor(doc);
  const { embedder } = deps;
  const stats: IngestStats = { outcome: "completed", source: source.name, ...empty, ms: 0, model: embedder.model };

  try {
    const override = await store.chunkSizeOverride(deps.db, doc.id);
    const maxTokens = Math.min(deps.settings.chunkSizeTokens, override.size ?? Infinity);
    const overlapTokens = Math.min(override.overlap ?? deps.settings.chunkOverlapTokens, Math.floor(maxTokens / 2));

    const sourceFingerprint = source.fingerprint ? await source.fingerprint(doc, deps.sources) : null;
    if (sourceFingerprint !== null) {
      stats.fingerprint = createHash("sha256")
        .update(JSON.stringify([PIPELINE_VERSION, doc.source_version, sourceFingerprint, embedder.model, embedder.dimensions,
          maxTokens, overlapTokens, deps.settings.prependTitle]))
        .digest("hex");
      const last = doc.metadata.last_ingest as { fingerprint?: string } | undefined;
      if (!job.force && last?.fingerprint === stats.fingerprint && (await store.fullyEmbedded(deps.db, doc.id, embedder.model))) {
        const count = await store.chunkCount(deps.db, doc.id);
        Object.assign(stats, { outcome: "unchanged", chunks: count, kept: count, ms: Math.round(performance.now() - started) });
        stats.outcome = await store.markUnchanged(deps.db, doc.id, doc.source_version, stats);
        return stats;
      }
    }

    await store.markProcessing(deps.db, doc.id);
    const extracted = await source.load(doc, { ...deps.sources, signal: job.signal });
    const chunks = chunkDocument(extracted, { maxTokens, overlapTokens, countTokens: embedder.countTokens });
    if (chunks.length === 0) throw new ExtractionError("empty", "the document has no text to index");

    const title = doc.title || extracted.title || "";
    const prepared = chunks.map((c) => {
      const input = embedInput(c, title, deps.settings.prependTitle);
      return { chunk: c, input, hash: contentHash(input).toString("hex") };
    });
    const existing = await store.existingChunks(deps.db, doc.id);
    const diff = diffChunks(existing, prepared);

    // Embed only texts that are new to this document (or kept but lacking this model's
    // embedding, after a model change) and not in the embedding cache.
    const lacking = await store.chunkHashesWithoutEmbedding(deps.db, doc.id, embedder.model);
    const keptIds = new Set(diff.keep.map((k) => k.id));
    const candidates = [
      ...new Set([
        ...diff.insert.map((i) => prepared[i]!.hash),
        ...existing.filter((e) => keptIds.has(e.id) && lacking.has(e.hash)).map((e) => e.hash),
      ]),
    ];
    const cached = await store.cachedHashes(deps.db, embedder.model, embedder.dimensions, candidates);
    const need = candidates.filter((h) => !cached.has(h));
    if (need.length > 0) {
      const inputs = new Map(prepared.map((p) => [p.hash, p.input]));
      const result = await embedder.embed(need.map((h) => inputs.get(h)!), { signal: job.signal });
      stats.tokens = result.tokens;
      stats.embedding_requests = result.requests;
      await store.storeEmbeddings(
        deps.pg,
        embedder.model,
        embedder.dimensions,
        need.map((h, i) => ({ hash: Buffer.from(h, "hex"), vector: result.vectors[i]! })),
      );
    }
    stats.cache_hits = candidates.length - need.length;
    await store.touchCacheEntries(deps.db, embedder.model, embedder.dimensions, candidates.filter((h) => cached.has(h)));
    stats.embedded = need.length;

    const metadataOf = (i: number) => {
      const c = prepared[i]!.chunk;
      return {
        heading_path: c.headingPath,
        char_start: c.charStart,
        char_end: c.charEnd,
        ...(c.pageStart !== undefined ? { page_start: c.pageStart, page_end: c.pageEnd } : {}),
      };
    };
    stats.chunks = chunks.length;
    stats.kept = diff.keep.length;
    stats.inserted = diff.insert.length;
    stats.removed = diff.remove.length;
    stats.extractor = extracted.meta.extractor ?? source.name;
    if (extracted.title) stats.extracted_title = extracted.title;
    if (typeof extracted.meta.pageCount === "number") stats.pages = extracted.meta.pageCount;

    stats.outcome = await store.swapChunks(deps.db, {
      documentId: doc.id,
      sourceVersion: doc.source_version,
      model: embedder.model,
      dimensions: embedder.dimensions,
      keep: diff.keep.map((k) => ({
        id: k.id,
        index: k.newIndex,
        tokenCount: prepared[k.newIndex]!.chunk.tokenCount,
        metadata: metadataOf(k.newIndex),
      })),
      remove: diff.remove,
      startedAt: started,
      insert: diff.insert.map((i) => ({
        index: i,
        content: prepared[i]!.chunk.text,
        hash: prepared[i]!.hash,
        tokenCount: prepared[i]!.chunk.tokenCount,
        metadata: metadataOf(i),
      })),
      stats,
    });
    return stats;
  } catch (err) {
    stats.ms = Math.round(performance.now() - started);
    const permanent =
      (err instanceof ExtractionError && err.permanent) || (err instanceof EmbeddingError && err.permanent);
    const reason = err instanceof ExtractionError ? err.reason : err instanceof EmbeddingError ? err.kind : "error";
    const message = err instanceof Error ? err.message : String(err);
    if (permanent || job.attempts >= job.maxAttempts) {
      await store.markFailed(deps.db, doc.id, reason, message, stats);
      if (permanent) throw new PermanentJobError(reason, message, { cause: err });
    } else {
      await store.recordRetry(deps.db, doc.id, `attempt ${job.attempts} of ${job.maxAttempts} failed: ${message}`);
    }
    throw err;
  }
}
