// Expired AI responses (seed 003: ai_response_cache.expires_at) are deleted in small
// batches so a large backlog never holds long locks.
import type pg from "pg";

export async function purgeExpiredResponses(
  pool: pg.Pool,
  options: { batchSize?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 5000;
  let total = 0;
  for (;;) {
    if (options.signal?.aborted) break;
    const res = await pool.query(
      `delete from ai_response_cache
        where id in (select id from ai_response_cache
                      where expires_at < now()
                      order by expires_at
                      limit $1
                      for update skip locked)`,
      [batchSize],
    );
    total += res.rowCount ?? 0;
    if ((res.rowCount ?? 0) < batchSize) break;
  }
  return total;
}
