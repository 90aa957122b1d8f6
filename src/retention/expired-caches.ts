// Expired cache rows (seed 003 ai_response_cache.expires_at; link previews) are deleted
// in small batches so a large backlog never holds long locks.
import type pg from "pg";

export const expiringTables = ["ai_response_cache", "link_previews"] as const;
export type ExpiringTable = (typeof expiringTables)[number];

export async function purgeExpired(
  pool: pg.Pool,
  table: ExpiringTable,
  options: { batchSize?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 5000;
  let total = 0;
  for (;;) {
    if (options.signal?.aborted) break;
    // `table` is one of a fixed list, never user input.
    const res = await pool.query(
      `delete from ${table}
        where ctid in (select ctid from ${table} where expires_at < now() order by expires_at limit $1 for update skip locked)`,
      [batchSize],
    );
    total += res.rowCount ?? 0;
    if ((res.rowCount ?? 0) < batchSize) break;
  }
  return total;
}
