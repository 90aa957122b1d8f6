// Picks the site icon for a preview card from <link rel=...icon...> tags.
//
// A card shows the icon at 16-32 CSS px, i.e. up to 64 device px on dense screens, so
// the goal is "a square image of at least 32 px, ideally 64-256, in a format every client
// decodes". Ranking (higher wins):
//   - declared square size (sizes="192x192", or in the file name: "favicon-96x96.png"),
//     32..256 px: ranked by size, PNG/SVG first;
//   - apple-touch-icon without sizes: 180 px by Apple's convention;
//   - sizes="any" / SVG: scalable, ranked like a 160 px raster;
//   - rel=icon without sizes: unknown (often 16 or 32 px): ranked like 24 px (PNG) / 20 px (ICO);
//   - > 256 px: fine but a bigger download for nothing: 512 px ranks like 128 px, >= 568 px like 100 px;
//   - < 32 px: ranked like half their size (a 16 px PNG: 8), below an unsized icon;
// Non-square declared sizes lose 40%. mask-icon (monochrome Safari pinned-tab SVG) and
// icons whose URL is not http(s) are ignored. Ties keep document order.
import type { LinkTag } from "./scan.ts";
import { resolveHttpUrl } from "./urls.ts";

export interface IconChoice {
  href: string;
  score: number;
}

function relKind(rel: string): "icon" | "apple" | null {
  const tokens = rel.split(" ");
  if (tokens.includes("mask-icon")) return null;
  if (tokens.includes("apple-touch-icon") || tokens.includes("apple-touch-icon-precomposed")) return "apple";
  if (tokens.includes("icon")) return "icon";
  return null;
}

function format(type: string, href: string): "svg" | "png" | "ico" | "other" {
  const path = href.split(/[?#]/)[0]?.toLowerCase() ?? "";
  if (type.includes("svg") || path.endsWith(".svg")) return "svg";
  if (type.includes("png") || path.endsWith(".png")) return "png";
  if (type.includes("icon") || path.endsWith(".ico")) return "ico";
  return "other";
}

/** Largest declared size: "16x16 32x32" → { size: 32, square: true }; "any" → { size: -1 }. */
function declaredSize(sizes: string): { size: number; square: boolean } | null {
  if (sizes === "") return null;
  let best: { size: number; square: boolean } | null = null;
  for (const token of sizes.split(/\s+/)) {
    if (token === "any") return { size: -1, square: true };
    const m = /^(\d+)x(\d+)$/.exec(token);
    if (m === null) continue;
    const w = Number(m[1]);
    const h = Number(m[2]);
    const size = Math.max(w, h);
    if (best === null || size > best.size) best = { size, square: w === h };
  }
  return best;
}

function sizeScore(size: number): number {
  if (size > 256) return Math.max(100, 256 - (size - 256) / 2);
  if (size >= 32) return size;
  return size / 2;
}

export function pickIcon(links: readonly LinkTag[], base: string | URL): IconChoice | null {
  let best: IconChoice | null = null;
  for (const link of links) {
    const kind = relKind(link.rel);
    if (kind === null) continue;
    const href = resolveHttpUrl(link.href, base);
    if (href === null) continue;
    const fmt = format(link.type, href);
    // No sizes attribute: "favicon-96x96.png", "apple-touch-icon-152x152.png" say it in the name.
    const declared = declaredSize(link.sizes) ?? declaredSize(/(?:^|[^\d])(\d{2,4}x\d{2,4})(?:[^\d]|$)/.exec(href.split(/[?#]/)[0] ?? "")?.[1] ?? "");
    let score: number;
    if (declared !== null && declared.size === -1) score = 160;
    else if (declared !== null) score = sizeScore(declared.size) * (declared.square ? 1 : 0.6);
    else if (kind === "apple") score = 180;
    else if (fmt === "svg") score = 160;
    else score = fmt === "ico" ? 20 : 24;
    // Same size: SVG/PNG over other rasters over ICO.
    score += fmt === "svg" || fmt === "png" ? 0.3 : fmt === "other" ? 0.2 : 0;
    if (best === null || score > best.score) best = { href, score };
  }
  return best;
}
