// A link preview as stored in media.metadata (seed 000 §3.2: link preview and video
// embed shapes) and mirrored in messages.metadata.attachments (§4.1).

export interface VideoEmbed {
  /** "youtube", "vimeo", ... */
  provider: string;
  video_id: string;
  embed_url: string;
  thumbnail_url: string | null;
  /** Seconds, when the page says (og:video:duration, JSON-LD ISO-8601 duration). */
  duration?: number | null;
}

export interface LinkPreview {
  /** Canonical URL (og:url > link[rel=canonical] > final URL), absolute. */
  url: string;
  title: string | null;
  description: string | null;
  /** Absolute URL of the preview image. */
  image: string | null;
  site_name: string | null;
  /** Absolute URL of the best icon (falls back to /favicon.ico of the final URL's origin). */
  favicon: string | null;
  /** og:type or the JSON-LD @type that supplied the data ("article", "product", "video.other"...). */
  type?: string | null;
  lang?: string | null;
  author?: string | null;
  published_time?: string | null;
  /** oEmbed discovery link (never fetched automatically). */
  oembed_url?: string | null;
  video?: VideoEmbed | null;
}
