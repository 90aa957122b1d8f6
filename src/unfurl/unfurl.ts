// unfurl_link: media row → normalised URL → cache or one guarded fetch → preview → media
// metadata + message attachment. Every link ends with a preview, at least the URL and host.
import type pg from "pg";
import { FetchError, type FetchResult, type GuardedFetchOptions } from "../http/index.ts";
import { extractPreview } from "./extract.ts";
import { cacheKey, InvalidLinkError, normalizeLink } from "./normalize-url.ts";
import * as store from "./store.ts";
import type { CachedPreview } from "./store.ts";
import type { LinkPreview } from "./types.ts";
import { videoEmbedFromUrl } from "./video.ts";

export interface UnfurlSettings {
  cacheTtlSeconds: number;
  failureTtlSeconds: number;
  maxBytes: number;
  timeoutMs: number;
}

export interface UnfurlDeps {
  pg: pg.Pool;
  fetch: (url: string, options: GuardedFetchOptions) => Promise<FetchResult>;
  settings: UnfurlSettings;
}

/** A failure worth retrying later (network trouble, 5xx); the minimal preview is kept meanwhile. */
export class TransientUnfurlError extends Error {
  override name = "TransientUnfurlError";
}

function minimalPreview(url: URL): LinkPreview {
  return {
    url: url.href,
    title: null,
    description: null,
    image: null,
    site_name: url.hostname.replace(/^www\./, ""),
    favicon: null,
    video: videoEmbedFromUrl(url.href),
  };
}

async function fetchPreview(deps: UnfurlDeps, url: URL, signal?: AbortSignal): Promise<CachedPreview & { transient: boolean }> {
  let res: FetchResult;
  try {
    res = await deps.fetch(url.href, {
      accept: ["text/html", "application/xhtml+xml"],
      maxBytes: deps.settings.maxBytes,
      truncate: true, // the head is what matters; a huge page is cut, not refused
      timeoutMs: deps.settings.timeoutMs,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (!(err instanceof FetchError)) throw err;
    if (err.code === "unsupported_content_type" && err.contentType?.startsWith("image/")) {
      // An image link previews as itself; its body is never downloaded.
      const final = new URL(err.url ?? url.href);
      const preview: LinkPreview = { ...minimalPreview(final), title: decodeURIComponent(final.pathname.split("/").pop() ?? "") || null, image: final.href, type: "image" };
      return { preview, status: "ok", reason: null, transient: false };
    }
    const reason = err.code === "http_status" ? `http_${err.status ?? "error"}` : err.code;
    return { preview: minimalPreview(url), status: "failed", reason, transient: err.transient };
  }
  const preview = extractPreview({
    html: res.body,
    url: res.url,
    contentType: String(res.headers["content-type"] ?? ""),
    truncated: res.truncated,
  });
  preview.site_name ??= new URL(res.url).hostname.replace(/^www\./, "");
  preview.video ??= videoEmbedFromUrl(preview.url) ?? videoEmbedFromUrl(url.href);
  return { preview, status: "ok", reason: null, transient: false };
}

// Concurrent unfurls of one URL in this process share one fetch.
const inflight = new Map<string, Promise<CachedPreview & { transient: boolean; cached: boolean }>>();

export async function previewFor(
  deps: UnfurlDeps,
  rawUrl: string,
  signal?: AbortSignal,
): Promise<CachedPreview & { transient: boolean; cached: boolean }> {
  let url: URL;
  try {
    url = normalizeLink(rawUrl);
  } catch (err) {
    if (!(err instanceof InvalidLinkError)) throw err;
    const preview: LinkPreview = { url: rawUrl.slice(0, 2048), title: null, description: null, image: null, site_name: null, favicon: null };
    return { preview, status: "failed", reason: "invalid_url", transient: false, cached: false };
  }
  const key = cacheKey(url.href);
  const running = inflight.get(key);
  if (running) return running;
  const work = (async () => {
    const hit = await store.readCache(deps.pg, key);
    if (hit) return { ...hit, transient: false, cached: true };
    const fresh = await fetchPreview(deps, url, signal);
    if (!fresh.transient) {
      const ttl = fresh.status === "ok" ? deps.settings.cacheTtlSeconds : deps.settings.failureTtlSeconds;
      await store.writeCache(deps.pg, key, fresh, ttl);
    }
    return { ...fresh, cached: false };
  })();
  inflight.set(key, work);
  try {
    return await work;
  } finally {
    inflight.delete(key);
  }
}

export interface UnfurlOutcome {
  status: "ok" | "failed" | "skipped";
  reason: string | null;
  cached: boolean;
}

export async function unfurlMedia(
  deps: UnfurlDeps,
  mediaId: string,
  job: { signal?: AbortSignal; attempts: number; maxAttempts: number },
): Promise<UnfurlOutcome> {
  const media = await store.loadMedia(deps.pg, mediaId);
  if (!media || media.media_type !== "link" || media.status !== "active") {
    return { status: "skipped", reason: media ? `media is ${media.media_type}/${media.status}` : "media not found", cached: false };
  }
  const result = await previewFor(deps, media.file_url, job.signal);
  await store.savePreview(deps.pg, media, result);
  if (result.transient && job.attempts < job.maxAttempts) {
    throw new TransientUnfurlError(`${media.file_url}: ${result.reason} (minimal preview saved; will retry)`);
  }
  return { status: result.status, reason: result.reason, cached: result.cached };
}
