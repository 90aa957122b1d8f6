import { z } from "zod";
import { expiringTables, purgeExpired } from "../retention/expired-caches.ts";
import { defineTask } from "./define.ts";

export const purgeExpiredCaches = defineTask({
  name: "purge_expired_caches",
  payload: z.object({ batch_size: z.number().int().min(1).max(100_000).optional() }),
  async run(payload, ctx, job) {
    const deleted: Record<string, number> = {};
    for (const table of expiringTables) {
      deleted[table] = await purgeExpired(ctx.pg, table, { batchSize: payload.batch_size, signal: job.signal });
    }
    job.log.info("expired cache rows purged", { deleted });
  },
});
