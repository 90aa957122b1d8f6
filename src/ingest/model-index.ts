// Registers an embedding model and makes sure its partial HNSW index exists.
// Steady-state ingestion writes through the live index; a bulk load may drop it
// (dropModelIndex), load, and build it once afterwards, which is several times faster.
import { createHash } from "node:crypto";
import type pg from "pg";

export function modelIndexName(model: string, dimensions: number): string {
  const slug = model.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "").slice(0, 30);
  const tag = createHash("sha1").update(`${model}:${dimensions}`).digest("hex").slice(0, 8);
  return `embeddings_hnsw_${slug}_${tag}`;
}

export function embeddingCast(dimensions: number): string {
  return dimensions > 2000 ? `halfvec(${dimensions})` : `vector(${dimensions})`;
}

export async function registerModel(pool: pg.Pool, model: { provider: string; model: string; dimensions: number }): Promise<void> {
  const res = await pool.query<{ dimensions: number }>(
    `insert into embedding_models (model, provider, dimensions, is_default, index_name)
     values ($1, $2, $3, not exists (select 1 from embedding_models where is_default), $4)
     on conflict (model) do update set provider = excluded.provider
     returning dimensions`,
    [model.model, model.provider, model.dimensions, modelIndexName(model.model, model.dimensions)],
  );
  if (res.rows[0]!.dimensions !== model.dimensions) {
    throw new Error(
      `model "${model.model}" is registered with ${res.rows[0]!.dimensions} dimensions, but the embedder produces ${model.dimensions}; ` +
        "use a different model name (blue/green switch) instead of changing dimensions in place",
    );
  }
}

export async function ensureModelIndex(pool: pg.Pool, schema: string, model: string, dimensions: number): Promise<string> {
  const name = modelIndexName(model, dimensions);
  const ops = dimensions > 2000 ? "halfvec_cosine_ops" : "vector_cosine_ops";
  const client = await pool.connect();
  try {
    // Replicas starting together: one builds, the others wait and find it there.
    await client.query("select pg_advisory_lock(hashtextextended($1, 0))", [`botkit-index:${schema}.${name}`]);
    try {
      const exists = await client.query("select 1 from pg_indexes where schemaname = $1 and indexname = $2", [schema, name]);
      if (exists.rowCount === 0) {
        await client.query(
          `create index concurrently if not exists ${name} on embeddings
             using hnsw ((embedding::${embeddingCast(dimensions)}) ${ops})
             where model = ${client.escapeLiteral(model)}`,
        );
      }
    } finally {
      await client.query("select pg_advisory_unlock(hashtextextended($1, 0))", [`botkit-index:${schema}.${name}`]);
    }
  } finally {
    client.release();
  }
  return name;
}

export async function dropModelIndex(pool: pg.Pool, model: string, dimensions: number): Promise<void> {
  await pool.query(`drop index concurrently if exists ${modelIndexName(model, dimensions)}`);
}
