// Video embeds from URL shapes alone (no network): YouTube, Vimeo, Dailymotion, Loom,
// Wistia, Streamable, TikTok, Twitch, VideoPress, Microsoft Stream, Vine.
import type { VideoEmbed } from "./types.ts";

const ID = /^[\w-]+$/;

/**
 * "PT1H2M3S" → 3723, "P1DT1S" → 86401, "PT1.5S" → 2 (rounded); also accepts the
 * "T1M3S" shorthand some players emit. Years and months are rejected (not a clip length).
 */
export function parseIsoDuration(value: string): number | null {
  const match = /^\s*-?P?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?\s*$/i.exec(value);
  if (match === null || value.trim().startsWith("-")) return null;
  const [, w, d, h, m, s] = match;
  if (w === undefined && d === undefined && h === undefined && m === undefined && s === undefined) return null;
  const n = (x: string | undefined): number => (x === undefined ? 0 : Number(x.replace(",", ".")));
  const total = n(w) * 604800 + n(d) * 86400 + n(h) * 3600 + n(m) * 60 + n(s);
  return Number.isFinite(total) ? Math.round(total) : null;
}

/** A duration as found in page metadata: seconds ("123", "123.4"), ISO 8601, or "1:02:03". */
export function parseDuration(value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (v === "") return null;
  if (/^\d+(?:\.\d+)?$/.test(v)) return Math.round(Number(v));
  const clock = /^(?:(\d+):)?(\d{1,2}):(\d{2})$/.exec(v);
  if (clock !== null) return Number(clock[1] ?? 0) * 3600 + Number(clock[2]) * 60 + Number(clock[3]);
  return parseIsoDuration(v);
}

/** YouTube/Vimeo style offsets: "90", "90s", "1m30s", "1h2m3s", "0m10s". */
function parseOffset(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  if (/^\d+$/.test(value)) return Number(value);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/i.exec(value);
  if (m === null || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

function hashParams(hash: string): URLSearchParams {
  return new URLSearchParams(hash.startsWith("#") ? hash.slice(1) : hash);
}

function segments(url: URL): string[] {
  return url.pathname.split("/").filter((s) => s !== "");
}

/** An id-like path piece, cut at a stray "&..." ("youtu.be/ID&feature=x"). */
function cleanId(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const id = raw.split(/[&?#;]/)[0] ?? "";
  let decoded: string;
  try {
    decoded = decodeURIComponent(id);
  } catch {
    return null;
  }
  return ID.test(decoded) ? decoded : null;
}

function youtube(id: string, start: number | null): VideoEmbed {
  return {
    provider: "youtube",
    video_id: id,
    embed_url: `https://www.youtube.com/embed/${id}${start !== null && start > 0 ? `?start=${start}` : ""}`,
    thumbnail_url: `https://i.ytimg.com/vi/${id}/hqdefault.jpg`,
  };
}

function fromYoutube(url: URL, host: string): VideoEmbed | null {
  const segs = segments(url);
  const start = parseOffset(url.searchParams.get("t") ?? url.searchParams.get("start") ?? url.searchParams.get("time_continue") ?? hashParams(url.hash).get("t"));
  if (host === "youtu.be" || host === "y2u.be") return withId(cleanId(segs[0]), (id) => youtube(id, start));
  if (host === "i.ytimg.com" || host === "img.youtube.com" || host.endsWith(".ytimg.com")) {
    // /vi/ID/hqdefault.jpg, /vi_webp/ID/..., /an_webp/ID/...
    if (segs.length >= 2 && /^(vi|vi_webp|an_webp|an)$/.test(segs[0] ?? "")) return withId(cleanId(segs[1]), (id) => youtube(id, null));
    return null;
  }
  if (segs[0] === "attribution_link") {
    const inner = url.searchParams.get("u");
    if (inner === null) return null;
    const target = URL.parse(inner, "https://www.youtube.com");
    return target === null ? null : fromYoutube(target, "youtube.com");
  }
  const v = url.searchParams.get("v") ?? url.searchParams.get("vi");
  if (v !== null) return withId(cleanId(v), (id) => youtube(id, start));
  const [first, second] = segs;
  if (first !== undefined && second !== undefined && /^(embed|shorts|v|vi|e|live|watch)$/.test(first)) {
    if (first === "embed" && (second === "videoseries" || second === "live_stream")) return null;
    return withId(cleanId(second), (id) => youtube(id, start));
  }
  // Legacy channel pages: /user/NAME#p/u/1/ID, #p/a/u/2/ID
  if (url.hash.startsWith("#p/")) {
    const last = url.hash.slice(1).split("/").pop();
    return withId(cleanId(last), (id) => youtube(id, start));
  }
  return null;
}

function withId(id: string | null, build: (id: string) => VideoEmbed): VideoEmbed | null {
  return id === null ? null : build(id);
}

function fromVimeo(url: URL, host: string): VideoEmbed | null {
  const segs = segments(url);
  const t = hashParams(url.hash).get("t") ?? url.searchParams.get("t");
  const startSeconds = parseOffset(t);
  const build = (id: string, hash: string | null): VideoEmbed => {
    const params = new URLSearchParams();
    if (hash !== null) params.set("h", hash);
    const query = params.size > 0 ? `?${params.toString()}` : "";
    const fragment = startSeconds !== null && startSeconds > 0 ? `#t=${startSeconds}s` : "";
    return { provider: "vimeo", video_id: id, embed_url: `https://player.vimeo.com/video/${id}${query}${fragment}`, thumbnail_url: null };
  };
  if (host === "player.vimeo.com") {
    if (segs[0] === "video" && segs[1] !== undefined && /^\d+$/.test(segs[1])) return build(segs[1], url.searchParams.get("h"));
    return null;
  }
  const clip = url.searchParams.get("clip_id");
  if (clip !== null && /^\d+$/.test(clip)) return build(clip, null);
  if (segs[0] === "event" && segs[1] !== undefined && /^\d+$/.test(segs[1])) {
    return { provider: "vimeo", video_id: segs[1], embed_url: `https://vimeo.com/event/${segs[1]}/embed`, thumbnail_url: null };
  }
  // vimeo.com/ID, /ID/HASH (unlisted), /channels/NAME/ID, /channels/ID, /groups/NAME/videos/ID,
  // /album/X/video/ID, /showcase/X/video/ID: the first all-digit segment is the clip.
  const at = segs.findIndex((s) => /^\d+$/.test(s));
  if (at === -1) return null;
  const id = segs[at] as string;
  const next = segs[at + 1];
  const hash = at === 0 && next !== undefined && /^[\da-z]{6,}$/i.test(next) ? next : null;
  return build(id, hash);
}

function simple(provider: string, id: string | null, embed: (id: string) => string, thumbnail: ((id: string) => string) | null = null): VideoEmbed | null {
  if (id === null) return null;
  return { provider, video_id: id, embed_url: embed(id), thumbnail_url: thumbnail === null ? null : thumbnail(id) };
}

function fromDailymotion(url: URL, host: string): VideoEmbed | null {
  const segs = segments(url);
  let raw: string | undefined;
  if (host === "dai.ly") raw = segs[0];
  else {
    const at = segs.indexOf("video");
    if (at !== -1) raw = segs[at + 1];
    raw ??= hashParams(url.hash).get("video") ?? undefined;
  }
  const id = cleanId(raw?.split("_")[0]);
  return simple(
    "dailymotion",
    id !== null && /^[a-z0-9]+$/i.test(id) ? id : null,
    (v) => `https://www.dailymotion.com/embed/video/${v}`,
    (v) => `https://www.dailymotion.com/thumbnail/video/${v}`,
  );
}

function afterSegment(url: URL, names: readonly string[]): string | null {
  const segs = segments(url);
  for (let i = 0; i < segs.length - 1; i++) if (names.includes(segs[i] as string)) return cleanId(segs[i + 1]);
  return null;
}

type HostMatcher = (url: URL, host: string) => VideoEmbed | null;

/** Host (without "www." / "m.") → parser. */
const PROVIDERS: ReadonlyArray<[RegExp, HostMatcher]> = [
  [/^(?:youtube\.com|music\.youtube\.com|gaming\.youtube\.com|youtube-nocookie\.com|youtu\.be|y2u\.be|i\.ytimg\.com|i\d\.ytimg\.com|img\.youtube\.com)$/, fromYoutube],
  [/^(?:vimeo\.com|player\.vimeo\.com)$/, fromVimeo],
  [/^(?:dailymotion\.com|dai\.ly)$/, fromDailymotion],
  [/^loom\.com$/, (url) => simple("loom", afterSegment(url, ["share", "embed"]), (id) => `https://www.loom.com/embed/${id}`)],
  [
    /^(?:web\.)?microsoftstream\.com$/,
    (url) => simple("microsoftstream", afterSegment(url, ["video"]), (id) => `https://web.microsoftstream.com/embed/video/${id}`),
  ],
  [/^tiktok\.com$/, (url) => simple("tiktok", numeric(afterSegment(url, ["video", "v2"])), (id) => `https://www.tiktok.com/embed/v2/${id}`)],
  [/^videopress\.com$/, (url) => simple("videopress", afterSegment(url, ["v", "embed"]), (id) => `https://videopress.com/embed/${id}`)],
  [/^vine\.co$/, (url) => simple("vine", afterSegment(url, ["v"]), (id) => `https://vine.co/v/${id}/embed/simple`)],
  [
    /^(?:[\w-]+\.wistia\.com|wistia\.com|fast\.wistia\.net|fast\.wistia\.com|wi\.st)$/,
    (url) => simple("wistia", afterSegment(url, ["medias", "iframe"]), (id) => `https://fast.wistia.net/embed/iframe/${id}`),
  ],
  [
    /^streamable\.com$/,
    (url) => {
      const segs = segments(url);
      const raw = segs[0] === "e" || segs[0] === "o" || segs[0] === "s" ? segs[1] : segs.length === 1 ? segs[0] : undefined;
      return simple("streamable", cleanId(raw), (id) => `https://streamable.com/e/${id}`);
    },
  ],
  [/^(?:twitch\.tv|clips\.twitch\.tv|player\.twitch\.tv)$/, fromTwitch],
];

function numeric(id: string | null): string | null {
  return id !== null && /^\d+$/.test(id) ? id : null;
}

function fromTwitch(url: URL, host: string): VideoEmbed | null {
  const segs = segments(url);
  // Twitch players refuse to load without &parent=<embedding host>; the caller appends it.
  if (host === "clips.twitch.tv") {
    const slug = segs[0] === "embed" ? url.searchParams.get("clip") : segs[0];
    return simple("twitch", cleanId(slug), (id) => `https://clips.twitch.tv/embed?clip=${id}`);
  }
  if (host === "player.twitch.tv") {
    const video = url.searchParams.get("video");
    return simple("twitch", cleanId(video?.replace(/^v/, "")), (id) => `https://player.twitch.tv/?video=v${id}`);
  }
  if (segs[0] === "videos") return simple("twitch", numeric(cleanId(segs[1])), (id) => `https://player.twitch.tv/?video=v${id}`);
  if (segs[1] === "clip") return simple("twitch", cleanId(segs[2]), (id) => `https://clips.twitch.tv/embed?clip=${id}`);
  return null;
}

function normaliseHost(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, "").replace(/^(?:www\.|m\.)/, "");
}

/**
 * The embeddable player for a video page URL, derived from the URL alone, or null when
 * the URL is not a recognised video (channel pages, playlists, unknown hosts). Accepts
 * scheme-less input ("youtu.be/ID"), the youtube:// app scheme and Google redirect links.
 */
export function videoEmbedFromUrl(input: string): VideoEmbed | null {
  const raw = input.trim();
  if (raw === "" || raw.startsWith("<")) return null;
  const app = /^youtube:\/\/([\w-]+)/i.exec(raw);
  if (app !== null) return youtube(app[1] as string, null);
  const withScheme = /^[a-z][a-z\d+.-]*:/i.test(raw) ? raw : `https://${raw.replace(/^\/\//, "")}`;
  const url = URL.parse(withScheme);
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) return null;
  const host = normaliseHost(url.hostname);
  if (/^(?:[\w-]+\.)*google\.[a-z.]+$/.test(host) && url.pathname === "/url") {
    const target = url.searchParams.get("url") ?? url.searchParams.get("q");
    return target === null ? null : videoEmbedFromUrl(target);
  }
  for (const [pattern, parse] of PROVIDERS) {
    if (pattern.test(host)) return parse(url, host);
  }
  return null;
}

/** The first <iframe src> of an embed snippet, through videoEmbedFromUrl. */
export function videoEmbedFromIframe(html: string): VideoEmbed | null {
  const re = /<iframe\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi;
  for (let m = re.exec(html); m !== null; m = re.exec(html)) {
    const src = (m[1] ?? m[2] ?? m[3] ?? "").replace(/&amp;/g, "&");
    const embed = videoEmbedFromUrl(src);
    if (embed !== null) return embed;
  }
  return null;
}
