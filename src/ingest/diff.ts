// Old chunks vs new chunks by content hash (a multiset: a paragraph may repeat).
// Unchanged chunks keep their rows and embeddings; only new hashes need embedding.
export interface ChunkDiff {
  /** Existing chunk id → its index in the new chunk list. */
  keep: { id: string; newIndex: number }[];
  /** Existing chunk ids whose text is gone. */
  remove: string[];
  /** Indexes into the new chunk list that need a new row. */
  insert: number[];
}

export function diffChunks(existing: readonly { id: string; hash: string }[], fresh: readonly { hash: string }[]): ChunkDiff {
  const available = new Map<string, string[]>();
  for (const e of existing) {
    const ids = available.get(e.hash);
    if (ids) ids.push(e.id);
    else available.set(e.hash, [e.id]);
  }
  const keep: ChunkDiff["keep"] = [];
  const insert: number[] = [];
  fresh.forEach((c, newIndex) => {
    const id = available.get(c.hash)?.shift();
    if (id === undefined) insert.push(newIndex);
    else keep.push({ id, newIndex });
  });
  const remove = [...available.values()].flat();
  return { keep, remove, insert };
}
