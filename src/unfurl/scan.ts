// One pass over a page that collects what a link preview needs: <meta>, <link>, <base>,
// <html lang>, the first <title> and the text of <script type="application/ld+json">.
//
// How: a regex pre-scan finds the tags we care about anywhere in the document and jumps
// over everything else with indexOf (comments, <script>/<style>/<textarea>/<template>/<svg>
// bodies), so the cost is one linear pass over the string with no per-character
// tokenising of inline scripts. The handful of tags found (typically 2-20 KB) are then
// run through htmlparser2's tokenizer, which does the spec-like part: attribute syntax
// (quoted, unquoted, duplicated), entity decoding in attributes and in <title> (RCDATA).
// JSON-LD script bodies bypass the tokenizer (script content is raw text, never decoded).
//
// Why not a SAX pass that stops at </head>: measured on the 184 corpus pages, 24 carry
// JSON-LD after <body>, 3 put Open Graph tags in the body (one page puts all of them
// there), so a head-only pass loses data. Tokenising whole documents with htmlparser2
// costs ~1.55 ms/page (mean page 280 KB); tokenising only up to <body> ~0.21 ms/page;
// this scan covers the whole document in ~0.27 ms/page (same machine, same run; the
// extraction as a whole is in bench/unfurl-parse.bench.ts).
import { Parser } from "htmlparser2";

/**
 * Input beyond this many UTF-16 units is ignored. Every og/twitter tag of the corpus lies
 * within 512 KB, but JSON-LD often sits at the very end of the body (Wikipedia: after
 * ~1 MB of article), so the cap is generous; scanning 2 MB costs ~2 ms.
 */
export const MAX_SCAN_CHARS = 2_097_152;
/** A JSON-LD block larger than this is skipped (some sites inline whole catalogues). */
const MAX_JSONLD_CHARS = 512_000;

export interface LinkTag {
  /** Lower-cased, whitespace-normalised rel tokens joined by one space ("shortcut icon"). */
  rel: string;
  href: string;
  type: string;
  sizes: string;
}

export interface ScannedPage {
  /**
   * First non-empty content per key. Keys: `property`/`name` values lower-cased ("og:title",
   * "twitter:image", "description"); `itemprop` values as "itemprop:<name>"; `http-equiv`
   * values as "http-equiv:<name>".
   */
  metas: Map<string, string>;
  /** Text of the first <title> outside <svg>, entity-decoded, not yet whitespace-normalised. */
  title: string | null;
  baseHref: string | null;
  lang: string | null;
  links: LinkTag[];
  jsonLd: string[];
}

const TAG_RE = /<(?:(!--)|(meta|link|script|style|title|svg|textarea|template|base|html)(?=[\s/>]))/gi;
/** An unclosed <title> runs to the end of the document in a browser; we keep this much of it. */
const MAX_TITLE_CHARS = 4096;
const SCRIPT_END_RE = /<\/script\s*>/gi;
const LD_TYPE_RE = /\btype\s*=\s*["']?\s*application\/ld\+json/i;
const RAW_TEXT_END: Record<string, RegExp> = {
  style: /<\/style\s*>/gi,
  textarea: /<\/textarea\s*>/gi,
  template: /<\/template\s*>/gi,
  svg: /<\/svg\s*>/gi,
  title: /<\/title\s*>/gi,
};

/** Scans `html` (already decoded text) and returns the collected tags; never throws on malformed markup. */
export function scanPage(input: string): ScannedPage {
  const html = input.length > MAX_SCAN_CHARS ? input.slice(0, MAX_SCAN_CHARS) : input;
  const page: ScannedPage = { metas: new Map(), title: null, baseHref: null, lang: null, links: [], jsonLd: [] };
  // Tags worth tokenising, in document order, concatenated into a small document.
  const picked: string[] = [];
  let sawTitle = false;
  let sawHtml = false;
  TAG_RE.lastIndex = 0;
  for (let m = TAG_RE.exec(html); m !== null; m = TAG_RE.exec(html)) {
    const start = m.index;
    if (m[1] !== undefined) {
      // "<!-->" and "<!--->" are complete (empty) comments for an HTML parser.
      if (html.startsWith(">", start + 4) || html.startsWith("->", start + 4)) {
        TAG_RE.lastIndex = html.indexOf(">", start + 4) + 1;
        continue;
      }
      const close = html.indexOf("-->", start + 4);
      if (close === -1) break;
      TAG_RE.lastIndex = close + 3;
      continue;
    }
    const name = (m[2] as string).toLowerCase();
    const tagEnd = findTagEnd(html, TAG_RE.lastIndex);
    if (tagEnd === -1) break; // unterminated tag at the end of the input
    TAG_RE.lastIndex = tagEnd;
    switch (name) {
      case "meta":
      case "link":
      case "base":
        picked.push(html.slice(start, tagEnd));
        break;
      case "html":
        if (!sawHtml) {
          sawHtml = true;
          picked.push(html.slice(start, tagEnd));
        }
        break;
      case "script": {
        SCRIPT_END_RE.lastIndex = tagEnd;
        const end = SCRIPT_END_RE.exec(html);
        const contentEnd = end === null ? html.length : end.index;
        TAG_RE.lastIndex = end === null ? html.length : SCRIPT_END_RE.lastIndex;
        if (LD_TYPE_RE.test(html.slice(start, tagEnd)) && contentEnd - tagEnd <= MAX_JSONLD_CHARS) {
          page.jsonLd.push(html.slice(tagEnd, contentEnd));
        }
        break;
      }
      case "title":
      case "style":
      case "textarea":
      case "template":
      case "svg": {
        if (html.charCodeAt(tagEnd - 2) === 0x2f /* "/>" */ && name === "svg") break;
        const endRe = RAW_TEXT_END[name] as RegExp;
        endRe.lastIndex = tagEnd;
        const end = endRe.exec(html);
        TAG_RE.lastIndex = end === null ? html.length : endRe.lastIndex;
        if (name === "title" && !sawTitle) {
          sawTitle = true;
          const textEnd = Math.min(end === null ? html.length : end.index, tagEnd + MAX_TITLE_CHARS);
          picked.push(`<title>${html.slice(tagEnd, textEnd)}</title>`);
        }
        break;
      }
    }
  }
  if (picked.length > 0) tokenise(picked.join("\n"), page);
  return page;
}

/**
 * Index just past the ">" that ends the start tag whose attributes begin at `from`, or -1.
 * As in the HTML tokenizer, a quote only opens a value right after "=" (so a ">" inside a
 * quoted value does not end the tag, and a stray quote elsewhere is an ordinary
 * character). Linear: a backtracking regex for this goes exponential on unclosed tags.
 */
function findTagEnd(html: string, from: number): number {
  const n = html.length;
  let i = from;
  while (i < n) {
    const c = html.charCodeAt(i);
    if (c === 0x3e /* > */) return i + 1;
    i++;
    if (c !== 0x3d /* = */) continue;
    while (i < n && (html.charCodeAt(i) === 0x20 || html.charCodeAt(i) === 0x0a || html.charCodeAt(i) === 0x09 || html.charCodeAt(i) === 0x0d || html.charCodeAt(i) === 0x0c)) i++;
    const q = html.charCodeAt(i);
    if (q === 0x22 /* " */ || q === 0x27 /* ' */) {
      const close = html.indexOf(q === 0x22 ? '"' : "'", i + 1);
      if (close === -1) return -1;
      i = close + 1;
    }
  }
  return -1;
}

function tokenise(fragment: string, page: ScannedPage): void {
  let inTitle = false;
  let title = "";
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (name === "meta") onMeta(attribs, page);
        else if (name === "link") onLink(attribs, page);
        else if (name === "title") inTitle = page.title === null;
        else if (name === "base") {
          if (page.baseHref === null && attribs.href !== undefined && attribs.href.trim() !== "") page.baseHref = attribs.href.trim();
        } else if (name === "html") {
          const lang = attribs.lang ?? attribs["xml:lang"];
          if (page.lang === null && lang !== undefined && lang.trim() !== "") page.lang = lang.trim();
        }
      },
      ontext(text) {
        if (inTitle) title += text;
      },
      onclosetag(name) {
        if (name === "title" && inTitle) {
          inTitle = false;
          page.title = title;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.end(fragment);
}

function onMeta(attribs: Record<string, string>, page: ScannedPage): void {
  const content = attribs.content ?? attribs.value;
  if (content === undefined || content.trim() === "") return;
  const set = (key: string): void => {
    if (!page.metas.has(key)) page.metas.set(key, content);
  };
  if (attribs.property !== undefined) set(attribs.property.trim().toLowerCase());
  if (attribs.name !== undefined) set(attribs.name.trim().toLowerCase());
  if (attribs.itemprop !== undefined) set(`itemprop:${attribs.itemprop.trim().toLowerCase()}`);
  if (attribs["http-equiv"] !== undefined) set(`http-equiv:${attribs["http-equiv"].trim().toLowerCase()}`);
}

function onLink(attribs: Record<string, string>, page: ScannedPage): void {
  const href = attribs.href;
  const rel = attribs.rel;
  if (href === undefined || rel === undefined || href.trim() === "") return;
  page.links.push({
    rel: rel.trim().toLowerCase().replace(/\s+/g, " "),
    href: href.trim(),
    type: (attribs.type ?? "").trim().toLowerCase(),
    sizes: (attribs.sizes ?? "").trim().toLowerCase(),
  });
}

// ---- Body fallbacks, used only when the metadata has no title / description / image. ----

/** How much of the body the fallbacks tokenise (from <main>, else <body>). */
const BODY_SEARCH_CHARS = 300_000;
const MIN_PARAGRAPH_CHARS = 60;
/** Start tags after which the fallbacks give up (htmlparser2's open-element stack makes deeply nested junk quadratic). */
const MAX_BODY_TAGS = 8000;
const SKIP_CONTENT = new Set(["script", "style", "noscript", "template", "svg", "math", "select", "button", "textarea", "iframe"]);
const BREAKS = new Set(["br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "blockquote"]);
const IMG_JUNK_RE = /logo|icon|avatar|sprite|pixel|spacer|emoji|badge|button|blank|placeholder|loading|tracking|beacon|counter|analytics|hidden|1x1|doubleclick|googlesyndication|adserver|\/count\//i;

export interface BodyFallbacks {
  /** Text of the first <h1>. */
  heading: string | null;
  /** Text of the first paragraph with at least 60 characters. */
  paragraph: string | null;
  /** Raw (possibly relative) src of the first content-looking <img>. */
  image: string | null;
}

/**
 * Last-resort values from the page body, for pages whose metadata lacks them. The body
 * (from <main> when the page has one, else from <body>; at most 300 KB) goes through
 * htmlparser2, skipping script/style/svg/template/form-control content, and stops as soon
 * as every wanted value is found (or after 8,000 start tags).
 *
 * - heading: the first <h1>.
 * - paragraph: the first <p> with >= 60 characters of text (starting at the first <article>
 *   instead of <main>/<body> measured worse: listing pages put teaser <article>s after the story).
 * - image: the first <img> that looks like content: skips decorative and tiny images
 *   (declared width/height < 100, size in the file name < 100, aria-hidden,
 *   role=presentation), files that are not JPEG/PNG/WebP/AVIF/JXL by extension (SVG icons,
 *   GIF spacers, videos misused as <img>; extension-less URLs pass), and anything whose
 *   src/class/alt/id says logo, icon, avatar, sprite, pixel, emoji, placeholder, hidden, an
 *   ad server... Lazy-loading data-src / data-lazy-src is read when src is a data: placeholder.
 */
export function bodyFallbacks(input: string, want: { heading: boolean; paragraph: boolean; image: boolean }): BodyFallbacks {
  const found: BodyFallbacks = { heading: null, paragraph: null, image: null };
  if (!want.heading && !want.paragraph && !want.image) return found;
  const html = input.length > MAX_SCAN_CHARS ? input.slice(0, MAX_SCAN_CHARS) : input;
  const from = /<main[\s>]/i.exec(html)?.index ?? /<body[\s>]/i.exec(html)?.index ?? 0;
  const slice = html.slice(from, from + BODY_SEARCH_CHARS);

  let skip = 0; // depth inside SKIP_CONTENT elements
  let heading: string | null = null; // text being collected, null when not inside <h1>
  let paragraph: string | null = null;
  let images = 0;
  let paragraphs = 0;
  let tags = 0;
  const done = (): boolean =>
    (!want.heading || found.heading !== null) && (!want.paragraph || found.paragraph !== null || paragraphs >= 40) && (!want.image || found.image !== null || images >= 30);

  const parser: Parser = new Parser(
    {
      onopentag(name, attribs) {
        if (++tags > MAX_BODY_TAGS) {
          parser.pause();
          return;
        }
        if (SKIP_CONTENT.has(name)) skip++;
        if (skip > 0) return;
        if (BREAKS.has(name)) {
          if (heading !== null) heading += " ";
          if (paragraph !== null) paragraph += " ";
        }
        if (name === "h1" && want.heading && found.heading === null && heading === null) heading = "";
        else if (name === "p" && want.paragraph && found.paragraph === null) paragraph = "";
        else if (name === "img" && want.image && found.image === null && images < 30) {
          images++;
          found.image = contentImage(attribs);
          if (done()) parser.pause();
        }
      },
      ontext(text) {
        if (skip > 0) return;
        if (heading !== null) heading += text;
        if (paragraph !== null) paragraph += text;
      },
      onclosetag(name) {
        if (SKIP_CONTENT.has(name)) {
          if (skip > 0) skip--;
          return;
        }
        if (skip > 0) return;
        if (name === "h1" && heading !== null) {
          const text = heading.replace(/\s+/g, " ").trim();
          heading = null;
          if (text !== "") found.heading = text;
        } else if (name === "p" && paragraph !== null) {
          const text = paragraph.replace(/\s+/g, " ").trim();
          paragraph = null;
          paragraphs++;
          if (text.length >= MIN_PARAGRAPH_CHARS) found.paragraph = text;
        } else return;
        if (done()) parser.pause();
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.end(slice);
  return found;
}

function contentImage(attribs: Record<string, string>): string | null {
  const usable = (v: string | undefined): v is string => v !== undefined && v.trim() !== "" && !v.trim().startsWith("data:");
  const src = [attribs.src, attribs["data-src"], attribs["data-lazy-src"]].find(usable)?.trim();
  if (src === undefined) return null;
  const file = (src.split(/[?#]/)[0] ?? "").toLowerCase().split("/").pop() ?? "";
  const ext = /\.([a-z0-9]{2,5})$/.exec(file)?.[1];
  if (ext !== undefined && !["jpg", "jpeg", "png", "webp", "avif", "jxl"].includes(ext)) return null;
  if (IMG_JUNK_RE.test(`${src} ${attribs.class ?? ""} ${attribs.alt ?? ""} ${attribs.id ?? ""}`)) return null;
  if (attribs["aria-hidden"] === "true" || attribs.role === "presentation") return null;
  const small = (v: string | undefined): boolean => {
    const n = Number.parseInt(v ?? "", 10);
    return Number.isFinite(n) && n < 100;
  };
  if (small(attribs.width) || small(attribs.height)) return null;
  const named = /(?:^|\D)(\d{1,4})x(\d{1,4})(?:\D|$)/.exec(file); // "badge-88x31.png"
  if (named !== null && (small(named[1]) || small(named[2]))) return null;
  return src;
}
