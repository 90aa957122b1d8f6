// Database side of unfurling: the preview cache, and writing a preview to its media row
// and the message's attachment in one transaction.
import type pg from "pg";
import type { LinkPreview } from "./types.ts";

export interface MediaLink {
  id: string;
  file_url: string;
  message_id: string | null;
  media_type: string;
  status: string;
}

export interface CachedPreview {
  preview: LinkPreview;
  status: "ok" | "failed";
  reason: string | null;
}

export async function loadMedia(pool: pg.Pool, id: string): Promise<MediaLink | null> {
  const res = await pool.query<MediaLink>(
    "select id::text, file_url, message_id::text, media_type, status from media where id = $1",
    [id],
  );
  return res.rows[0] ?? null;
}

export async function readCache(pool: pg.Pool, key: string): Promise<CachedPreview | null> {
  const res = await pool.query<CachedPreview>(
    "select preview, status, reason from link_previews where url_key = $1 and expires_at > now()",
    [key],
  );
  return res.rows[0] ?? null;
}

export async function writeCache(pool: pg.Pool, key: string, entry: CachedPreview, ttlSeconds: number): Promise<void> {
  await pool.query(
    `insert into link_previews (url_key, preview, status, reason, fetched_at, expires_at)
     values ($1, $2, $3, $4, now(), now() + make_interval(secs => $5))
     on conflict (url_key) do update set preview = excluded.preview, status = excluded.status, reason = excluded.reason,
                                         fetched_at = excluded.fetched_at, expires_at = excluded.expires_at`,
    [key, JSON.stringify(entry.preview), entry.status, entry.reason, ttlSeconds],
  );
}

/** media.metadata for a link: the seed's link-preview fields, video fields, and how it went. */
export function mediaMetadata(entry: CachedPreview): Record<string, unknown> {
  const { video, ...link } = entry.preview;
  return {
    ...link,
    ...(video ? { provider: video.provider, video_id: video.video_id, embed_url: video.embed_url, thumbnail_url: video.thumbnail_url, duration: video.duration ?? null } : {}),
    unfurl: { status: entry.status, reason: entry.reason, at: new Date().toISOString() },
  };
}

/**
 * Writes the preview to the media row (metadata, canonical file_url) and to the matching
 * attachment of its message (added if the message does not list it yet), atomically.
 */
export async function savePreview(pool: pg.Pool, media: MediaLink, entry: CachedPreview): Promise<void> {
  const metadata = mediaMetadata(entry);
  const p = entry.preview;
  const attachment = {
    media_id: Number(media.id),
    type: "link",
    url: p.url,
    title: p.title,
    description: p.description,
    image: p.image,
    site_name: p.site_name,
    favicon: p.favicon,
    ...(p.video ? { provider: p.video.provider, embed_url: p.video.embed_url, thumbnail_url: p.video.thumbnail_url } : {}),
  };
  const client = await pool.connect();
  try {
    await client.query("begin");
    // file_url is varchar(500): a longer canonical URL keeps the original link.
    await client.query(
      `update media set metadata = $2, file_url = case when length($3) <= 500 then $3 else file_url end where id = $1`,
      [media.id, JSON.stringify(metadata), p.url],
    );
    if (media.message_id) {
      // Read-modify-write under the row lock: the attachment list is small.
      const msg = await client.query<{ metadata: Record<string, unknown> | null }>(
        "select metadata from messages where id = $1 for update",
        [media.message_id],
      );
      if (msg.rows[0]) {
        const meta = msg.rows[0].metadata ?? {};
        const list = Array.isArray(meta.attachments) ? (meta.attachments as Record<string, unknown>[]) : [];
        const at = list.findIndex((a) => Number(a?.media_id) === Number(media.id));
        const attachments = at >= 0 ? list.map((a, i) => (i === at ? { ...a, ...attachment } : a)) : [...list, attachment];
        await client.query("update messages set metadata = $2 where id = $1", [media.message_id, JSON.stringify({ ...meta, attachments })]);
      }
    }
    await client.query("commit");
  } catch (err) {
    await client.query("rollback").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
