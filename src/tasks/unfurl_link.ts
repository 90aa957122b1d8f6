import { z } from "zod";
import { guardedFetch } from "../http/index.ts";
import { loadSettings } from "../settings.ts";
import { unfurlMedia } from "../unfurl/unfurl.ts";
import { defineTask } from "./define.ts";

export const unfurlLinkTask = defineTask({
  name: "unfurl_link",
  payload: z.object({ media_id: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]).transform(String) }),
  async run(payload, ctx, job) {
    const s = await loadSettings(ctx.pg);
    const outcome = await unfurlMedia(
      {
        pg: ctx.pg,
        fetch: (url, options) => guardedFetch(url, { ...options, allowHosts: ctx.cfg.HTTP_ALLOW_HOSTS }),
        settings: {
          cacheTtlSeconds: s.unfurl_cache_ttl_hours * 3600,
          failureTtlSeconds: s.unfurl_failure_ttl_minutes * 60,
          maxBytes: s.unfurl_max_bytes,
          timeoutMs: s.unfurl_timeout_seconds * 1000,
        },
      },
      payload.media_id,
      job,
    );
    job.log.info("link unfurled", { media_id: payload.media_id, ...outcome });
  },
});
