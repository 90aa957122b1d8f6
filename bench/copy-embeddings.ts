// Binary COPY straight into `embeddings (chunk_id, model, dimensions, embedding)`: the
// fastest way a client can write vectors, used as the baseline the ingest pipeline is
// compared with. Same wire format as src/db/copy-binary.ts (which only writes
// (bytea, vector) pairs), for the four columns the embeddings table needs.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

export interface ChunkVector {
  chunkId: bigint;
  vector: Float32Array;
}

function* encodeRows(rows: readonly ChunkVector[], model: string, dimensions: number): Generator<Buffer> {
  const modelBytes = Buffer.from(model, "utf8");
  const rowBytes = 2 + (4 + 8) + (4 + modelBytes.length) + (4 + 4) + (4 + 4 + 4 * dimensions);
  const perBuffer = Math.max(1, Math.floor((1 << 20) / rowBytes));
  const header = Buffer.alloc(SIGNATURE.length + 8);
  SIGNATURE.copy(header, 0);
  yield header;
  for (let start = 0; start < rows.length; start += perBuffer) {
    const end = Math.min(rows.length, start + perBuffer);
    const buf = Buffer.allocUnsafe((end - start) * rowBytes);
    let o = 0;
    for (let r = start; r < end; r++) {
      const row = rows[r]!;
      if (row.vector.length !== dimensions) throw new Error(`vector of chunk ${row.chunkId} has ${row.vector.length} dimensions, expected ${dimensions}`);
      o = buf.writeInt16BE(4, o);
      o = buf.writeInt32BE(8, o);
      o = buf.writeBigInt64BE(row.chunkId, o);
      o = buf.writeInt32BE(modelBytes.length, o);
      o += modelBytes.copy(buf, o);
      o = buf.writeInt32BE(4, o);
      o = buf.writeInt32BE(dimensions, o);
      o = buf.writeInt32BE(4 + 4 * dimensions, o);
      o = buf.writeInt16BE(dimensions, o);
      o = buf.writeInt16BE(0, o);
      const v = row.vector;
      for (let i = 0; i < dimensions; i++) o = buf.writeFloatBE(v[i]!, o);
    }
    yield buf;
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1, 0);
  yield trailer;
}

/** COPY rows into `embeddings` (search_path decides the schema) in binary format. */
export async function copyEmbeddings(client: pg.PoolClient | pg.Client, model: string, dimensions: number, rows: readonly ChunkVector[]): Promise<void> {
  const sink = client.query(copyFrom("copy embeddings (chunk_id, model, dimensions, embedding) from stdin with (format binary)"));
  await pipeline(Readable.from(encodeRows(rows, model, dimensions)), sink);
}

/**
 * Reads (chunk id, vector) pairs with a binary COPY out of `query`, which must select
 * exactly (bigint, vector). Used to give the baseline the same vectors the ingest stored.
 */
export async function readChunkVectors(client: pg.PoolClient | pg.Client, query: string): Promise<ChunkVector[]> {
  const parts: Buffer[] = [];
  const source = client.query(copyTo(`copy (${query}) to stdout with (format binary)`));
  for await (const part of source) parts.push(part as Buffer);
  const buf = Buffer.concat(parts);
  if (!buf.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error("binary COPY output has no PGCOPY signature");
  let o = SIGNATURE.length + 4;
  o += 4 + buf.readInt32BE(o); // header extension
  const out: ChunkVector[] = [];
  for (;;) {
    const fields = buf.readInt16BE(o);
    o += 2;
    if (fields === -1) break;
    if (fields !== 2) throw new Error(`expected 2 columns, got ${fields}`);
    const idLen = buf.readInt32BE(o);
    const chunkId = buf.readBigInt64BE(o + 4);
    o += 4 + idLen;
    const vecLen = buf.readInt32BE(o);
    const dims = buf.readInt16BE(o + 4);
    const vector = new Float32Array(dims);
    let p = o + 8;
    for (let i = 0; i < dims; i++, p += 4) vector[i] = buf.readFloatBE(p);
    o += 4 + vecLen;
    out.push({ chunkId, vector });
  }
  return out;
}
