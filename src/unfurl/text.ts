// Text clean-up for preview fields: entity decoding leftovers, whitespace, length caps.
import { decodeHTMLStrict } from "entities";

export const TITLE_MAX = 300;
export const DESCRIPTION_MAX = 1000;

// C0/C1 controls other than whitespace, and lone surrogates never belong in a preview.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_RE = /[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Whitespace runs; U+3000 (ideographic space) on its own is kept, CJK titles use it as punctuation.
const WS_RE = /[\s\u200b\ufeff]+/g;
const ENTITY_RE = /&(?:#\d{1,7}|#x[\da-f]{1,6}|[a-z][a-z\d]{1,31});/i;

/**
 * Whitespace-normalised, control-free text; null when nothing is left.
 * Values reach us entity-decoded once (by the HTML parser); a second decode is applied
 * only when a complete entity is still present ("&amp;#8217;" double-escaping by CMSs).
 */
export function cleanText(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  let text = value;
  if (text.includes("&") && ENTITY_RE.test(text)) text = decodeHTMLStrict(text);
  text = text.replace(CONTROL_RE, "").replace(WS_RE, (run) => (run === "\u3000" ? run : " ")).trim();
  return text === "" ? null : text;
}

let segmenter: Intl.Segmenter | undefined;

/**
 * At most `max` UTF-16 code units, cut at a grapheme-cluster boundary (never inside a
 * surrogate pair, emoji ZWJ sequence or combining sequence), ending with "…" when cut.
 * A cut prefers the last word boundary in the final 15% of the allowance.
 */
export function capLength(text: string, max: number): string {
  if (text.length <= max) return text;
  const budget = max - 1; // room for the ellipsis
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  let end = 0;
  // Only the region around the cut needs segmenting; start a little earlier so the
  // first segment boundary we trust is a real one (a grapheme is < 64 units in practice).
  const from = Math.max(0, budget - 64);
  const window = text.slice(from, budget + 64);
  for (const { index, segment } of segmenter.segment(window)) {
    const stop = from + index + segment.length;
    if (from + index === 0 && stop > budget) break;
    if (stop > budget) {
      end = from + index;
      break;
    }
    end = stop;
  }
  if (from > 0 && end <= from) {
    // Pathological cluster longer than the window (stacked combining marks): cut at the
    // window start, but never between the halves of a surrogate pair.
    end = from;
    const prev = text.charCodeAt(end - 1);
    if (prev >= 0xd800 && prev <= 0xdbff) end--;
  }
  let cut = text.slice(0, end);
  const space = cut.search(/\s\S*$/);
  if (space > budget * 0.85) cut = cut.slice(0, space);
  return `${cut.replace(/[\s,;:\-–—|·]+$/, "")}…`;
}

/** Separators that introduce a site-name suffix in titles ("Story | Site", "Story - Site"). */
const SUFFIX_SEPARATORS = [" | ", " - ", " – ", " — ", " · ", " • ", " :: ", " » ", " / "];

/** Lower-cased, punctuation-free form for comparing names ("BostonGlobe.com" ~ "bostonglobe"). */
export function nameKey(name: string): string {
  return name
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\.(com|org|net|co\.uk|co|io|fr|de|cz|ru|jp|es|it)$/, "")
    .replace(/^(the|www\.)\s*/, "")
    .replace(/[\s\p{P}\p{S}]+/gu, "");
}

/** Splits "Story | Site" at the last separator: { head: "Story", tail: "Site", separator }. */
export function splitTitleSuffix(title: string): { head: string; tail: string; separator: string } | null {
  let best: { head: string; tail: string; separator: string } | null = null;
  for (const separator of SUFFIX_SEPARATORS) {
    const at = title.lastIndexOf(separator);
    if (at <= 0) continue;
    if (best !== null && at < best.head.length) continue;
    best = { head: title.slice(0, at).trim(), tail: title.slice(at + separator.length).trim(), separator };
  }
  return best !== null && best.head !== "" && best.tail !== "" ? best : null;
}

/**
 * Removes a trailing " <sep> <site name>" when the suffix names the site (compared
 * loosely via nameKey) and what remains is still a real title (>= 2 words or >= 12
 * characters). Returns the title unchanged otherwise.
 */
export function stripSiteSuffix(title: string, siteNames: readonly string[]): string {
  const split = splitTitleSuffix(title);
  if (split === null) return title;
  const tailKey = nameKey(split.tail);
  if (tailKey === "") return title;
  const matches = siteNames.some((name) => {
    const key = nameKey(name);
    return key !== "" && (key === tailKey || (key.length >= 4 && (tailKey.startsWith(key) || key.startsWith(tailKey)) && Math.min(key.length, tailKey.length) / Math.max(key.length, tailKey.length) >= 0.6));
  });
  if (!matches) return title;
  const head = split.head;
  if (head.length < 12 && !/\s/.test(head)) return title;
  return head;
}
