import { z } from "zod";
import { purgeEmbeddingCache } from "../ingest/store.ts";
import { loadSettings } from "../settings.ts";
import { defineTask } from "./define.ts";

export const purgeEmbeddingCacheTask = defineTask({
  name: "purge_embedding_cache",
  payload: z.object({ older_than_days: z.number().int().min(1).optional() }),
  async run(payload, ctx, job) {
    const days = payload.older_than_days ?? (await loadSettings(ctx.pg)).embedding_cache_retention_days;
    const deleted = await purgeEmbeddingCache(ctx.pg, days);
    job.log.info("unused embedding cache entries purged", { deleted, older_than_days: days });
  },
});
