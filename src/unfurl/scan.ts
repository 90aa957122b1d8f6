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
// there), so a head-only pass loses data; and the tokenizer walks inline scripts and
// styles character by character, which dominates head parsing time. See
// bench/unfurl-parse.bench.ts for the numbers.
import { decodeHTML } from "entities";
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
// The rest of a start tag: attributes with quoted values may contain ">".
const TAG_END_RE = /(?:[^>"']+|"[^"]*"|'[^']*')*>/y;
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
    TAG_END_RE.lastIndex = TAG_RE.lastIndex;
    if (!TAG_END_RE.test(html)) break; // unterminated tag at the end of the input
    const tagEnd = TAG_END_RE.lastIndex;
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

// ---- Body fallbacks, used only when the metadata has no title / no description. ----

const BODY_SEARCH_CHARS = 300_000;

/** Text content of an HTML fragment: tags dropped (<br> and block ends become spaces), entities decoded. */
function fragmentText(fragment: string): string {
  return decodeHTML(
    fragment
      .replace(/<(script|style|noscript|svg|template)\b[\s\S]*?<\/\1\s*>/gi, "")
      .replace(/<!--[\s\S]*?-->/g, "")
      .replace(/<(?:br|\/p|\/div|\/li|\/h\d)\b[^>]*>/gi, " ")
      .replace(/<[^>]*>/g, ""),
  );
}

function bodyStart(html: string): number {
  const m = /<body[\s>]/i.exec(html);
  return m === null ? 0 : m.index;
}

/** Text of the first <h1> in the body (title of last resort). */
export function firstHeading(input: string): string | null {
  const html = input.length > MAX_SCAN_CHARS ? input.slice(0, MAX_SCAN_CHARS) : input;
  const re = /<h1\b[^>]*>([\s\S]*?)<\/h1\s*>/gi;
  re.lastIndex = bodyStart(html);
  const m = re.exec(html);
  if (m === null || m[1] === undefined || m[1].length > 2000) return null;
  const text = fragmentText(m[1]).trim();
  return text === "" ? null : text;
}

/**
 * Text of the first substantial paragraph (>= 60 characters) of the main content:
 * searched from <main> when the page has one, else from <body> (starting at the first
 * <article> instead measured worse: listing pages put teaser <article>s after the story).
 */
export function firstParagraph(input: string): string | null {
  const html = input.length > MAX_SCAN_CHARS ? input.slice(0, MAX_SCAN_CHARS) : input;
  const body = bodyStart(html);
  const main = /<main[\s>]/gi;
  main.lastIndex = body;
  const from = main.exec(html)?.index ?? body;
  const end = Math.min(html.length, from + BODY_SEARCH_CHARS);
  const re = /<p\b[^>]*>([\s\S]*?)<\/p\s*>/gi;
  re.lastIndex = from;
  for (let m = re.exec(html), n = 0; m !== null && m.index < end && n < 40; m = re.exec(html), n++) {
    const text = fragmentText(m[1] ?? "").replace(/\s+/g, " ").trim();
    if (text.length >= 60) return text;
  }
  return null;
}

const IMG_JUNK_RE = /logo|icon|avatar|sprite|pixel|spacer|emoji|badge|button|blank|placeholder|loading|tracking|beacon|counter|analytics|hidden|1x1|doubleclick|googlesyndication|adserver|\/count\//i;

function attr(tag: string, name: string): string | null {
  const m = new RegExp(`[\\s"']${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, "i").exec(tag);
  return m === null ? null : decodeHTML(m[1] ?? m[2] ?? m[3] ?? "");
}

/**
 * src of the first content-looking <img> of the body (image of last resort): skips
 * decorative and tiny images (declared width/height < 100, aria-hidden, role=presentation),
 * files that are not JPEG/PNG/WebP/AVIF/JXL by extension (SVG icons, GIF spacers, videos
 * misused as <img>; extension-less URLs pass), and anything whose src/class/alt/id says
 * logo, icon, avatar, sprite, pixel, emoji, placeholder, hidden... Lazy-loading data-src is read
 * when src is a data: placeholder. Returns the raw (possibly relative) URL.
 */
export function firstContentImage(input: string): string | null {
  const html = input.length > MAX_SCAN_CHARS ? input.slice(0, MAX_SCAN_CHARS) : input;
  const body = bodyStart(html);
  const main = /<main[\s>]/gi;
  main.lastIndex = body;
  const from = main.exec(html)?.index ?? body;
  const end = Math.min(html.length, from + BODY_SEARCH_CHARS);
  const re = /<img\b(?:[^>"']+|"[^"]*"|'[^']*')*>/gi;
  re.lastIndex = from;
  for (let m = re.exec(html), n = 0; m !== null && m.index < end && n < 30; m = re.exec(html), n++) {
    const tag = m[0];
    let src = attr(tag, "src");
    if (src === null || src.trim() === "" || src.trim().startsWith("data:")) src = attr(tag, "data-src") ?? attr(tag, "data-lazy-src");
    if (src === null || src.trim() === "" || src.trim().startsWith("data:")) continue;
    const path = (src.split(/[?#]/)[0] ?? "").toLowerCase();
    const ext = /\.([a-z0-9]{2,5})$/.exec(path)?.[1];
    if (ext !== undefined && !["jpg", "jpeg", "png", "webp", "avif", "jxl"].includes(ext)) continue;
    if (IMG_JUNK_RE.test(`${src} ${attr(tag, "class") ?? ""} ${attr(tag, "alt") ?? ""} ${attr(tag, "id") ?? ""}`)) continue;
    if (attr(tag, "aria-hidden") === "true" || attr(tag, "role") === "presentation") continue;
    const width = Number.parseInt(attr(tag, "width") ?? "", 10);
    const height = Number.parseInt(attr(tag, "height") ?? "", 10);
    if ((Number.isFinite(width) && width < 100) || (Number.isFinite(height) && height < 100)) continue;
    const named = /(?:^|\D)(\d{1,4})x(\d{1,4})(?:\D|$)/.exec(path.split("/").pop() ?? ""); // "badge-88x31.png"
    if (named !== null && (Number(named[1]) < 100 || Number(named[2]) < 100)) continue;
    return src.trim();
  }
  return null;
}
