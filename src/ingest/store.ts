// Database side of ingestion. Reads happen outside transactions; fresh embeddings go
// into embedding_cache as soon as they exist (committed, so a retry never pays twice);
// the document's chunks are swapped in one short transaction.
import type pg from "pg";
import { sql, type DatabasePool } from "slonik";
import { z } from "zod";
import { copyHashVectors } from "../db/copy-binary.ts";
import type { SourceDocument } from "./sources.ts";

// Fingerprint of the fields an ingest reads: a mismatch at swap time means "edited meanwhile".
const sourceVersion = sql.fragment`md5(row(title, source_type, source_id, file_path, mime_type, content, source_url)::text)`;

const documentRow = z.object({
  id: z.coerce.string(),
  title: z.string(),
  source_type: z.string(),
  source_id: z.coerce.string().nullable(),
  file_path: z.string().nullable(),
  mime_type: z.string().nullable(),
  content: z.string().nullable(),
  source_url: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  status: z.string(),
  source_version: z.string(),
});
export type DocumentRow = z.infer<typeof documentRow> & SourceDocument;

export async function loadDocument(db: DatabasePool, id: string): Promise<DocumentRow | null> {
  return db.maybeOne(sql.type(documentRow)`
    select id, title, source_type, source_id, file_path, mime_type, content, source_url, metadata, status,
           ${sourceVersion} as source_version
      from documents where id = ${id}`);
}

export async function markProcessing(db: DatabasePool, id: string): Promise<void> {
  await db.query(sql.unsafe`update documents set status = 'processing', error_reason = null, error_message = null where id = ${id}`);
}

export async function markFailed(db: DatabasePool, id: string, reason: string, message: string, stats: Record<string, unknown>): Promise<void> {
  await db.query(sql.unsafe`
    update documents set status = 'failed', error_reason = ${reason}, error_message = ${message.slice(0, 4000)},
           metadata = metadata || ${sql.jsonb({ last_ingest: stats })}
     where id = ${id}`);
}

export async function recordRetry(db: DatabasePool, id: string, message: string): Promise<void> {
  await db.query(sql.unsafe`update documents set error_message = ${message.slice(0, 4000)} where id = ${id}`);
}

/** Chunking settings for a document: the smallest chunk size any linked chatbot asks for. */
export async function chunkSizeOverride(db: DatabasePool, documentId: string): Promise<{ size: number | null; overlap: number | null }> {
  const row = await db.one(sql.type(z.object({ size: z.number().nullable(), overlap: z.number().nullable() }))`
    select min((cb.model_config ->> 'chunk_size_tokens')::int) as size,
           min((cb.model_config ->> 'chunk_overlap_tokens')::int) as overlap
      from content_relationships cr
      join chatbots cb on cb.id = cr.source_id
     where cr.source_type = 'chatbot' and cr.target_type = 'document' and cr.target_id = ${documentId}
       and jsonb_typeof(cb.model_config -> 'chunk_size_tokens') = 'number'`);
  return row;
}

const existingChunk = z.object({ id: z.coerce.string(), hash: z.string() });

export async function existingChunks(db: DatabasePool, documentId: string): Promise<{ id: string; hash: string }[]> {
  return [...(await db.any(sql.type(existingChunk)`
    select id, encode(content_hash, 'hex') as hash from chunks where document_id = ${documentId} order by chunk_index`))];
}

/** Hashes of the document's chunks that have no embedding for `model`. */
export async function chunkHashesWithoutEmbedding(db: DatabasePool, documentId: string, model: string): Promise<Set<string>> {
  const rows = await db.anyFirst(sql.type(z.object({ hash: z.string() }))`
    select encode(c.content_hash, 'hex') as hash from chunks c
     where c.document_id = ${documentId}
       and not exists (select 1 from embeddings e where e.chunk_id = c.id and e.model = ${model})`);
  return new Set(rows);
}

/** True when the document has chunks and every one has an embedding for `model`. */
export async function fullyEmbedded(db: DatabasePool, documentId: string, model: string): Promise<boolean> {
  return db.oneFirst(sql.type(z.object({ ok: z.boolean() }))`
    select exists (select 1 from chunks where document_id = ${documentId})
       and not exists (select 1 from chunks c where c.document_id = ${documentId}
                         and not exists (select 1 from embeddings e where e.chunk_id = c.id and e.model = ${model})) as ok`);
}

export async function chunkCount(db: DatabasePool, documentId: string): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: z.number() }))`select count(*)::int as n from chunks where document_id = ${documentId}`);
}

/** Completes a document whose last ingest is still current (unless it was edited meanwhile). */
export async function markUnchanged(
  db: DatabasePool,
  id: string,
  sourceVersion: string,
  stats: Record<string, unknown>,
): Promise<"unchanged" | "superseded"> {
  const done = await db.maybeOneFirst(sql.type(z.object({ id: z.coerce.string() }))`
    update documents set status = 'completed', error_reason = null, error_message = null,
           metadata = metadata || ${sql.jsonb({ last_ingest: stats })}
     where id = ${id}
       and md5(row(title, source_type, source_id, file_path, mime_type, content, source_url)::text) = ${sourceVersion}
    returning id`);
  return done === null ? "superseded" : "unchanged";
}

/** Which of `hashes` already have an embedding for the model (in the cache). */
export async function cachedHashes(db: DatabasePool, model: string, dimensions: number, hashes: string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await db.anyFirst(sql.type(z.object({ hash: z.string() }))`
    select encode(content_hash, 'hex') as hash from embedding_cache
     where model = ${model} and dimensions = ${dimensions}
       and content_hash = any(array(select decode(h, 'hex') from unnest(${sql.array(hashes, "text")}) h))`);
  return new Set(rows);
}

/** Marks cache entries as used (at most once a day per entry) so retention keeps them. */
export async function touchCacheEntries(db: DatabasePool, model: string, dimensions: number, hashes: string[]): Promise<void> {
  if (hashes.length === 0) return;
  await db.query(sql.unsafe`
    update embedding_cache set last_used_at = now()
     where model = ${model} and dimensions = ${dimensions}
       and content_hash = any(array(select decode(h, 'hex') from unnest(${sql.array(hashes, "text")}) h))
       and last_used_at < now() - interval '1 day'`);
}

/** Deletes cache entries unused for `days`, in batches. Embeddings already stored stay. */
export async function purgeEmbeddingCache(pool: pg.Pool, days: number, batchSize = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await pool.query(
      `delete from embedding_cache where ctid in (
         select ctid from embedding_cache where last_used_at < now() - make_interval(days => $1) limit $2)`,
      [days, batchSize],
    );
    total += res.rowCount ?? 0;
    if ((res.rowCount ?? 0) < batchSize) return total;
  }
}

/** Stores fresh embeddings in the cache: binary COPY into a staging table, then merge. */
export async function storeEmbeddings(
  pool: pg.Pool,
  model: string,
  dimensions: number,
  rows: { hash: Buffer; vector: Float32Array }[],
): Promise<void> {
  if (rows.length === 0) return;
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query("create temp table embedding_stage (content_hash bytea, embedding vector) on commit drop");
    await copyHashVectors(client, "embedding_stage", rows);
    await client.query(
      `insert into embedding_cache (content_hash, model, dimensions, embedding)
       select content_hash, $1, $2, embedding from embedding_stage
       on conflict (content_hash, model, dimensions) do update set last_used_at = now()`,
      [model, dimensions],
    );
    await client.query("commit");
  } catch (err) {
    await client.query("rollback").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

export interface NewChunkRow {
  index: number;
  content: string;
  hash: string;
  tokenCount: number;
  metadata: Record<string, unknown>;
}

export interface SwapInput {
  documentId: string;
  sourceVersion: string;
  model: string;
  dimensions: number;
  keep: { id: string; index: number; tokenCount: number; metadata: Record<string, unknown> }[];
  remove: string[];
  insert: NewChunkRow[];
  stats: Record<string, unknown>;
  /** performance.now() when the ingest began: `stats.ms` is stamped just before commit. */
  startedAt: number;
}

/**
 * Replaces the document's chunks in one transaction. Returns false when the document
 * changed (or vanished) meanwhile: the chunks written are then a consistent older
 * version and the document stays pending for the job its edit enqueued.
 */
export async function swapChunks(db: DatabasePool, input: SwapInput): Promise<"completed" | "superseded" | "deleted"> {
  return db.transaction(async (tx) => {
    const current = await tx.maybeOneFirst(sql.type(z.object({ v: z.string() }))`
      select ${sourceVersion} as v from documents where id = ${input.documentId} for update`);
    if (current === null) return "deleted";

    if (input.remove.length > 0) {
      await tx.query(sql.unsafe`delete from chunks where id = any(${sql.array(input.remove, "int8")})`);
    }
    if (input.keep.length > 0) {
      await tx.query(sql.unsafe`
        update chunks c set chunk_index = v.idx, metadata = v.meta, token_count = v.tokens
          from ${sql.unnest(input.keep.map((k) => [k.id, k.index, JSON.stringify(k.metadata), k.tokenCount]), ["int8", "int4", "jsonb", "int4"])}
               as v(id, idx, meta, tokens)
         where c.id = v.id`);
    }
    if (input.insert.length > 0) {
      await tx.query(sql.unsafe`
        insert into chunks (document_id, content, chunk_index, metadata, content_hash, token_count)
        select ${input.documentId}, v.content, v.idx, v.meta, decode(v.hash, 'hex'), v.tokens
          from ${sql.unnest(input.insert.map((c) => [c.content, c.index, JSON.stringify(c.metadata), c.hash, c.tokenCount]), ["text", "int4", "jsonb", "text", "int4"])}
               as v(content, idx, meta, hash, tokens)`);
    }
    // Vectors move inside the database: every chunk of the document lacking an embedding
    // for the model gets it from the cache, by primary-key lookups (LATERAL), whatever the
    // table statistics say.
    const missing = await tx.oneFirst(sql.type(z.object({ n: z.number() }))`
      with todo as (
        select c.id, c.content_hash from chunks c
         where c.document_id = ${input.documentId}
           and not exists (select 1 from embeddings e where e.chunk_id = c.id and e.model = ${input.model})
      ), added as (
        insert into embeddings (chunk_id, model, dimensions, embedding)
        select t.id, ${input.model}, ${input.dimensions}, ec.embedding
          from todo t
          cross join lateral (
            select embedding from embedding_cache
             where content_hash = t.content_hash and model = ${input.model} and dimensions = ${input.dimensions}
          ) ec
        returning chunk_id
      )
      select ((select count(*) from todo) - (select count(*) from added))::int as n`);
    if (missing !== 0) throw new Error(`${missing} chunk(s) of document ${input.documentId} have no cached embedding for ${input.model}`);

    const superseded = current !== input.sourceVersion;
    input.stats.ms = Math.round(performance.now() - input.startedAt);
    await tx.query(sql.unsafe`
      update documents
         set status = ${superseded ? "pending" : "completed"},
             error_reason = null, error_message = null, ingested_at = now(),
             metadata = metadata || ${sql.jsonb({ last_ingest: input.stats })}
       where id = ${input.documentId}`);
    return superseded ? "superseded" : "completed";
  });
}
