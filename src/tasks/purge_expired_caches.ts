import { z } from "zod";
import { purgeExpiredResponses } from "../retention/response-cache.ts";
import { defineTask } from "./define.ts";

export const purgeResponseCache = defineTask({
  name: "purge_response_cache",
  payload: z.object({ batch_size: z.number().int().min(1).max(100_000).optional() }),
  async run(payload, ctx, job) {
    const deleted = await purgeExpiredResponses(ctx.pg, { batchSize: payload.batch_size, signal: job.signal });
    job.log.info("expired AI responses purged", { deleted });
  },
});
