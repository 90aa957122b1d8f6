// HTML → ExtractedDocument.
//
// "article" mode (web pages): Mozilla Readability on a linkedom DOM picks the
// main content; when it throws or finds (almost) nothing, a cheerio heuristic
// (strip chrome such as nav/header/footer/cookie banners, take main/article/body)
// takes over. "full" mode (WordPress post content, already the main content)
// converts the fragment as it is. Either way the chosen content DOM is walked
// into TextBlocks: headings with levels, paragraphs, lists ("- item" lines,
// nested lists indented), tables (rows as lines, cells joined by " | "),
// code (<pre>, verbatim) and quotes.
import * as cheerio from "cheerio";
import type { Cheerio, CheerioAPI } from "cheerio";
import { Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";
import { ExtractionError } from "../types.ts";
import type { ExtractedDocument, TextBlock } from "../types.ts";

export interface ExtractHtmlOptions {
  /**
   * Address of the page. Accepted for the callers' convenience; the text does
   * not depend on it (links and images are not part of the output).
   */
  url?: string;
  /** "article" (default): find the main content of a web page. "full": the input is already the content (a fragment). */
  mode?: "article" | "full";
}

export type HtmlExtractor = "readability" | "fallback" | "fragment";

// ---------------------------------------------------------------------------
// DOM types, derived from cheerio (domhandler is not a direct dependency).

type DomRoot = ReturnType<CheerioAPI["root"]> extends Cheerio<infer R> ? R : never;
type DomNode = DomRoot["children"][number];
type DomElement = Extract<DomNode, { attribs: Record<string, string> }>;
type DomParent = DomRoot | DomElement;

function isElement(node: DomNode): node is DomElement {
  return "attribs" in node;
}

function isTextNode(node: DomNode): node is Extract<DomNode, { data: string }> {
  return "data" in node && String(node.type) === "text";
}

function tagOf(el: DomElement): string {
  return el.name.toLowerCase();
}

// ---------------------------------------------------------------------------
// Tag classes.

/** Never text: dropped with everything inside. */
const SKIP_TAGS = new Set([
  "head", "title", "meta", "link", "base", "script", "style", "noscript", "template",
  "iframe", "frame", "frameset", "object", "embed", "param", "applet", "canvas", "svg",
  "video", "audio", "source", "track", "picture", "img", "map", "area",
  "button", "input", "select", "option", "optgroup", "datalist", "textarea", "output", "progress", "meter",
  "dialog", "rp", "rt",
]);

/** Elements that end the current paragraph and start a new one. */
const BLOCK_TAGS = new Set([
  "html", "body", "div", "section", "article", "main", "header", "footer", "aside", "nav",
  "figure", "figcaption", "address", "center", "details", "summary", "fieldset", "legend", "form",
  "caption", "hgroup", "search", "dt", "dd", "li", "tr", "td", "th", "thead", "tbody", "tfoot",
  "colgroup", "col", "menu", "dir", "noframes", "marquee",
]);

const HEADING_RE = /^h([1-6])$/;

/** Private-use character standing for a <br> until whitespace has been collapsed. */
const BR = "\uE000";
const BR_RE = /\uE000/g;
const WS_RUN = /[^\S\uE000]+/g;
const SOFT_HYPHEN = /\u00AD/g;

// ---------------------------------------------------------------------------
// Text helpers.

function cleanInline(raw: string): string {
  let s = raw.replace(SOFT_HYPHEN, "").replace(WS_RUN, " ");
  s = s.replace(/ ?\uE000 ?/g, BR).replace(BR_RE, "\n");
  s = s
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join("\n");
  return s.normalize("NFC");
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

function isHidden(el: DomElement): boolean {
  const a = el.attribs;
  if (a["hidden"] !== undefined) return true;
  if (a["aria-hidden"] === "true") return true;
  const style = a["style"];
  if (style !== undefined && /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b/i.test(style)) return true;
  return false;
}

/** Line-number gutters of code highlighters and MediaWiki "[edit]" links: noise next to the text. */
function isGutter(el: DomElement): boolean {
  const cls = el.attribs["class"];
  return cls !== undefined && /(?:^|\s)(?:linenos|lineno|gutter|line-numbers-rows|line-numbers-wrapper|mw-editsection)(?:\s|$)/.test(cls);
}

/** textContent with <br> as `br` (a newline), without recursion (deep trees must not overflow the stack). */
function rawText(root: DomNode, br = "\n"): string {
  const out: string[] = [];
  const stack: DomNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === undefined) break;
    if (isTextNode(node)) {
      out.push(node.data);
      continue;
    }
    if (isElement(node)) {
      const tag = tagOf(node);
      if (tag === "br") {
        out.push(br);
        continue;
      }
      if (node !== root && (SKIP_TAGS.has(tag) || isHidden(node) || isGutter(node))) continue;
    }
    if ("children" in node) {
      // Elements, the document root, CDATA.
      for (let i = node.children.length - 1; i >= 0; i--) {
        const child = node.children[i];
        if (child !== undefined) stack.push(child);
      }
    }
  }
  return out.join("");
}

// ---------------------------------------------------------------------------
// DOM → blocks.

interface WalkOptions {
  /** wpautop semantics: a blank line inside a text node separates paragraphs (WordPress content). */
  blankLineParagraphs: boolean;
}

/** Beyond this nesting depth the walker stops interpreting structure and just collects text. */
const MAX_DEPTH = 300;

class BlockBuilder {
  readonly blocks: TextBlock[] = [];
  private inline: string[] = [];
  private readonly opts: WalkOptions;
  private readonly listDepth: number;

  constructor(opts: WalkOptions, listDepth = 0) {
    this.opts = opts;
    this.listDepth = listDepth;
  }

  private push(block: TextBlock): void {
    if (block.text.trim() === "") return;
    this.blocks.push(block);
  }

  /** Ends the current paragraph. Two or more <br> in a row also separate paragraphs. */
  flush(): void {
    if (this.inline.length === 0) return;
    const raw = this.inline.join("");
    this.inline = [];
    for (const part of raw.split(/\uE000(?:[^\S\uE000]*\uE000)+/)) {
      const text = cleanInline(part);
      if (text !== "") this.blocks.push({ kind: "paragraph", text });
    }
  }

  walkChildren(parent: DomParent, depth: number): void {
    for (const child of parent.children) this.walk(child, depth + 1);
  }

  walk(node: DomNode, depth: number): void {
    if (isTextNode(node)) {
      this.text(node.data);
      return;
    }
    if (!isElement(node)) {
      // Comments (including WordPress block comments), directives, CDATA: no text.
      return;
    }
    const tag = tagOf(node);
    if (SKIP_TAGS.has(tag) || isHidden(node) || isGutter(node)) return;
    if (depth > MAX_DEPTH) {
      this.text(rawText(node, BR));
      return;
    }
    const heading = HEADING_RE.exec(tag);
    if (heading !== null) {
      this.flush();
      const text = oneLine(cleanInline(rawText(node)));
      this.push({ kind: "heading", text, level: Number(heading[1]) });
      return;
    }
    switch (tag) {
      case "br":
        this.inline.push(BR);
        return;
      case "hr":
      case "p":
        this.flush();
        this.walkChildren(node, depth);
        this.flush();
        return;
      case "dl":
        if (!node.children.some((c) => isElement(c) && tagOf(c) === "dt")) {
          // <dl><dd> without terms is used for indentation (MediaWiki): plain blocks.
          this.flush();
          this.walkChildren(node, depth);
          this.flush();
        } else {
          this.flush();
          const lines = dedent(listLines(node, this.listDepth, this.opts, depth), this.listDepth * 2);
          this.push({ kind: "list", text: lines.join("\n") });
        }
        return;
      case "ul":
      case "ol": {
        this.flush();
        const lines = dedent(listLines(node, this.listDepth, this.opts, depth), this.listDepth * 2);
        this.push({ kind: "list", text: lines.join("\n") });
        return;
      }
      case "table":
        this.flush();
        this.table(node, depth);
        return;
      case "pre":
      case "xmp":
      case "listing":
      case "plaintext":
        this.flush();
        this.push({ kind: "code", text: codeText(node) });
        return;
      case "blockquote": {
        this.flush();
        const sub = new BlockBuilder(this.opts, this.listDepth);
        sub.walkChildren(node, depth);
        sub.flush();
        this.push({ kind: "quote", text: sub.blocks.map((b) => b.text).join("\n") });
        return;
      }
      default:
        if (BLOCK_TAGS.has(tag)) {
          this.flush();
          this.walkChildren(node, depth);
          this.flush();
        } else {
          this.walkChildren(node, depth);
        }
    }
  }

  private text(data: string): void {
    if (!this.opts.blankLineParagraphs || !/\n[^\S\n]*\n/.test(data)) {
      this.inline.push(data);
      return;
    }
    const parts = data.split(/\n[^\S\n]*\n\s*/);
    parts.forEach((part, i) => {
      if (i > 0) this.flush();
      this.inline.push(part);
    });
  }

  private table(table: DomElement, depth: number): void {
    const rows = tableRows(table);
    if (isLayoutTable(table, rows)) {
      for (const row of rows) {
        for (const cell of row) {
          this.walkChildren(cell, depth + 2);
          this.flush();
        }
      }
      return;
    }
    const lines: string[] = [];
    for (const child of table.children) {
      if (isElement(child) && tagOf(child) === "caption") {
        const caption = oneLine(cleanInline(rawText(child)));
        if (caption !== "") lines.push(caption);
      }
    }
    for (const row of rows) {
      const cells = row.map((cell) => cellText(cell, this.opts, depth));
      if (cells.every((c) => c === "")) continue;
      lines.push(cells.join(" | ").trim());
    }
    this.push({ kind: "table", text: lines.join("\n") });
  }
}

/** Removes indentation shared by all lines beyond `base` columns (a list nested in a list without an item). */
function dedent(lines: string[], base: number): string[] {
  let common = Infinity;
  for (const line of lines) common = Math.min(common, /^ */.exec(line)?.[0].length ?? 0);
  const cut = common === Infinity ? 0 : common - base;
  return cut > 0 ? lines.map((line) => line.slice(cut)) : lines;
}

function blocksToOneLine(blocks: TextBlock[]): string {
  return blocks
    .map((b) => (b.kind === "code" ? b.text.replace(/\s+/g, " ") : oneLine(b.text)))
    .filter((t) => t !== "")
    .join(" ")
    .trim();
}

function cellText(cell: DomElement, opts: WalkOptions, depth: number): string {
  const sub = new BlockBuilder(opts);
  sub.walkChildren(cell, depth + 2);
  sub.flush();
  return blocksToOneLine(sub.blocks);
}

/** Rows of a table (through thead/tbody/tfoot, not into nested tables), each as its cells. */
function tableRows(table: DomElement): DomElement[][] {
  const rows: DomElement[][] = [];
  const visit = (parent: DomElement): void => {
    for (const child of parent.children) {
      if (!isElement(child) || isHidden(child)) continue;
      const tag = tagOf(child);
      if (tag === "tr") {
        rows.push(child.children.filter((c): c is DomElement => isElement(c) && (tagOf(c) === "td" || tagOf(c) === "th") && !isHidden(c)));
      } else if (tag === "thead" || tag === "tbody" || tag === "tfoot") {
        visit(child);
      }
    }
  };
  visit(table);
  return rows;
}

const CELL_BLOCK_TAGS = new Set(["h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "pre", "blockquote", "table"]);

/** Tables used for page layout are read as a sequence of blocks, not as a grid. */
function isLayoutTable(table: DomElement, rows: DomElement[][]): boolean {
  const role = table.attribs["role"];
  if (role === "presentation" || role === "none") return true;
  if (rows.length === 0) return true;
  const maxCols = Math.max(...rows.map((r) => r.length));
  if (maxCols <= 1) return true;
  for (const row of rows) {
    for (const cell of row) {
      let paragraphs = 0;
      const stack: DomNode[] = [...cell.children];
      while (stack.length > 0) {
        const node = stack.pop();
        if (node === undefined || !isElement(node)) continue;
        const tag = tagOf(node);
        if (CELL_BLOCK_TAGS.has(tag)) return true;
        if (tag === "p" && ++paragraphs > 1) return true;
        stack.push(...node.children);
      }
    }
  }
  return false;
}

function codeText(pre: DomElement): string {
  const lines = rawText(pre)
    .replace(/\r\n?/g, "\n")
    .replace(SOFT_HYPHEN, "")
    .split("\n")
    .map((line) => line.trimEnd());
  while (lines.length > 0 && lines[0] === "") lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.join("\n").normalize("NFC");
}

/** Lines of a list: "- item" (or "1. item" for <ol>), nested lists indented by two spaces a level. */
function listLines(list: DomElement, listDepth: number, opts: WalkOptions, depth: number): string[] {
  const indent = "  ".repeat(listDepth);
  const tag = tagOf(list);
  const ordered = tag === "ol";
  const startAttr = Number.parseInt(list.attribs["start"] ?? "", 10);
  let counter = ordered && Number.isFinite(startAttr) ? startAttr : 1;
  const lines: string[] = [];
  const loose: DomNode[] = [];
  let sawTerm = false;

  const item = (nodes: DomNode[], marker: string): void => {
    const sub = new BlockBuilder(opts, listDepth + 1);
    for (const node of nodes) sub.walk(node, depth + 2);
    sub.flush();
    const own: string[] = [];
    const nested: string[] = [];
    for (const block of sub.blocks) {
      if (block.kind === "list") {
        if (own.length > 0 || nested.length === 0) nested.push(...flushOwn(own, marker, indent, nested.length === 0));
        nested.push(...block.text.split("\n"));
      } else {
        own.push(block.kind === "code" ? block.text.replace(/\s+/g, " ").trim() : oneLine(block.text));
      }
    }
    if (own.length > 0) nested.push(...flushOwn(own, marker, indent, nested.length === 0));
    lines.push(...nested);
  };

  const flushLoose = (): void => {
    if (loose.length === 0) return;
    const nodes = loose.splice(0);
    if (nodes.every((n) => isTextNode(n) && n.data.trim() === "")) return;
    item(nodes, ordered ? `${counter++}. ` : "- ");
  };

  for (const child of list.children) {
    if (isElement(child)) {
      const childTag = tagOf(child);
      if (childTag === "li" || childTag === "dt") {
        flushLoose();
        if (isHidden(child)) continue;
        if (childTag === "dt") sawTerm = true;
        item(child.children, ordered ? `${counter++}. ` : "- ");
        continue;
      }
      if (childTag === "dd") {
        flushLoose();
        if (isHidden(child)) continue;
        // A definition sits under its term; one without a term is an item of its own.
        item(child.children, sawTerm ? "  " : "- ");
        continue;
      }
      if (childTag === "ul" || childTag === "ol") {
        // A list directly inside a list (invalid but common): a nested level.
        flushLoose();
        lines.push(...listLines(child, listDepth + 1, opts, depth + 1));
        continue;
      }
    }
    loose.push(child);
  }
  flushLoose();
  return lines;
}

function flushOwn(own: string[], marker: string, indent: string, first: boolean): string[] {
  const text = own.splice(0).filter((t) => t !== "").join(" ");
  if (text === "") return [];
  return [first ? `${indent}${marker}${text}` : `${indent}${" ".repeat(marker.length)}${text}`];
}

function walkToBlocks(root: DomParent, opts: WalkOptions): TextBlock[] {
  const builder = new BlockBuilder(opts);
  builder.walkChildren(root, 0);
  builder.flush();
  return builder.blocks;
}

// ---------------------------------------------------------------------------
// WordPress block comments and shortcodes.

/** Shortcodes whose enclosed content is not text (a URL or a media fallback): removed with it. */
const DROP_CONTENT_SHORTCODES = ["embed", "audio", "video", "playlist", "wpvideo"].map(
  (name) => new RegExp(`(?<!\\[)\\[${name}\\b[^[\\]]*\\][\\s\\S]*?\\[\\/${name}\\]`, "g"),
);
/**
 * Core and common plugin shortcodes, removed even without attributes. Names
 * that are ordinary words in brackets ("[video]", "[product]") are left out:
 * without attributes or a closing tag they may be prose.
 */
const KNOWN_SHORTCODES = new Set([
  "gallery", "caption", "wp_caption", "embed", "playlist", "wpvideo",
  "contact-form", "contact-form-7", "gravityform", "gravityforms", "ninja_form", "wpforms", "mc4wp_form",
  "product_page", "product_category", "add_to_cart", "woocommerce_cart", "woocommerce_checkout",
  "woocommerce_my_account", "recent_products", "featured_products",
]);

const SHORTCODE_TAG = /(\[?)\[(\/?)([A-Za-z][\w-]*)((?:\s+[^[\]]*?)?)(\/?)\](\]?)/g;
const PROTECTED_SEGMENT = /<(pre|code|script|style|textarea|xmp)\b[\s\S]*?<\/\1\s*>/gi;

/** Shortcode names are case-sensitive in WordPress; "[Video]" is not "[video]". */
function stripShortcodesIn(text: string): string {
  let s = text;
  for (const re of DROP_CONTENT_SHORTCODES) s = s.replace(re, "");
  // Names used as enclosing shortcodes ([name ...]...[/name]) in this text.
  const enclosing = new Set<string>();
  for (const m of s.matchAll(/\[\/([A-Za-z][\w-]*)\]/g)) {
    const name = m[1];
    if (name !== undefined && new RegExp(`\\[${name}[\\s\\]/]`).test(s)) enclosing.add(name);
  }
  return s.replace(SHORTCODE_TAG, (whole, open: string, slash: string, name: string, attrs: string, selfClose: string, close: string) => {
    const inner = whole.slice(open.length, whole.length - close.length);
    if (open === "[" && close === "]") return inner; // [[escaped]] prints literally
    const isShortcode =
      KNOWN_SHORTCODES.has(name) ||
      enclosing.has(name) ||
      (slash === "" && /[\w-]=/.test(attrs)) ||
      (slash === "" && selfClose === "/") ||
      (slash === "" && attrs.trim() === "" && /[_-]/.test(name));
    if (!isShortcode) return whole;
    return open + close;
  });
}

/** Removes WordPress block comments and shortcodes, leaving pre/code/script/style contents alone. */
export function stripWordPressMarkup(html: string): string {
  const withoutBlocks = html.replace(/<!--\s*\/?wp:[\s\S]*?-->/g, "");
  if (!withoutBlocks.includes("[")) return withoutBlocks;
  let out = "";
  let last = 0;
  for (const m of withoutBlocks.matchAll(PROTECTED_SEGMENT)) {
    out += stripShortcodesIn(withoutBlocks.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + stripShortcodesIn(withoutBlocks.slice(last));
}

// ---------------------------------------------------------------------------
// Readability.

interface MinimalElement {
  getAttribute(name: string): string | null;
  readonly firstElementChild: MinimalElement | null;
  readonly nextElementSibling: MinimalElement | null;
}
interface MinimalDocument {
  title: string;
  documentElement: MinimalElement | null;
  querySelector(selector: string): MinimalElement | null;
}

interface ReadabilityOutcome {
  contentHtml: string;
  title?: string;
  byline?: string;
  excerpt?: string;
  siteName?: string;
  lang?: string;
  publishedTime?: string;
}

function nonEmpty(s: string | null | undefined): string | undefined {
  if (typeof s !== "string") return undefined;
  const t = s.replace(/\s+/g, " ").trim().normalize("NFC");
  return t === "" ? undefined : t;
}

/** Real pages nest a few dozen levels deep; 5,000 nested divs take Readability over a second. */
const MAX_READABILITY_DEPTH = 400;
/** parse5 (spec-exact, used for cheerio by default) is quadratic in nesting depth; htmlparser2 is linear. */
const MAX_PARSE5_DEPTH = 1000;

/** Parses with parse5, or with htmlparser2 (HTML mode) for pathologically deep markup. */
function loadHtml(html: string, isDocument: boolean, deep: boolean): CheerioAPI {
  return deep ? cheerio.load(html, { xml: { xmlMode: false, decodeEntities: true } }, isDocument) : cheerio.load(html, null, isDocument);
}

const VOID_TAGS = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"]);

/** Upper bound of the nesting depth from a tag scan (unclosed p/li count as nesting). */
function estimateDepth(html: string): number {
  let depth = 0;
  let max = 0;
  for (const m of html.matchAll(/<(\/?)([A-Za-z][\w-]*)[^>]*?(\/?)>/g)) {
    const name = (m[2] ?? "").toLowerCase();
    if (m[1] === "/") depth = Math.max(0, depth - 1);
    else if (m[3] !== "/" && !VOID_TAGS.has(name)) max = Math.max(max, ++depth);
  }
  return max;
}

function exceedsDepth(root: MinimalElement, limit: number): boolean {
  const stack: Array<[MinimalElement, number]> = [[root, 0]];
  while (stack.length > 0) {
    const top = stack.pop();
    if (top === undefined) break;
    const [el, depth] = top;
    if (depth > limit) return true;
    for (let child = el.firstElementChild; child !== null; child = child.nextElementSibling) stack.push([child, depth + 1]);
  }
  return false;
}

function runReadability(source: string): { article: ReadabilityOutcome | null; tooDeep: boolean } {
  try {
    const { document } = parseHTML(source) as unknown as { document: MinimalDocument };
    if (document.documentElement === null) return { article: null, tooDeep: false };
    // Readability's run time grows with depth × elements; absurdly deep (broken) markup goes to the fallback.
    if (exceedsDepth(document.documentElement, MAX_READABILITY_DEPTH)) return { article: null, tooDeep: true };
    const lang = nonEmpty(document.documentElement.getAttribute("lang"));
    const article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0]).parse();
    if (article === null || typeof article.content !== "string") return { article: null, tooDeep: false };
    const outcome: ReadabilityOutcome = {
      contentHtml: article.content,
      title: nonEmpty(article.title),
      byline: nonEmpty(article.byline),
      excerpt: nonEmpty(article.excerpt),
      siteName: nonEmpty(article.siteName),
      lang: nonEmpty(article.lang) ?? lang,
      publishedTime: nonEmpty(article.publishedTime),
    };
    return { article: outcome, tooDeep: false };
  } catch {
    return { article: null, tooDeep: false };
  }
}

// ---------------------------------------------------------------------------
// Fallback heuristic (cheerio).
//
// Traversals are our own (iterative, one pass each): cheerio selectors go
// through domutils' find(), which is quadratic in nesting depth.

/** Elements of a subtree in document order (pre-order), without recursion. */
function preOrder(root: DomParent): DomElement[] {
  const out: DomElement[] = [];
  const stack: DomNode[] = [];
  for (let i = root.children.length - 1; i >= 0; i--) {
    const child = root.children[i];
    if (child !== undefined) stack.push(child);
  }
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === undefined || !isElement(node)) continue;
    out.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) {
      const child = node.children[i];
      if (child !== undefined) stack.push(child);
    }
  }
  return out;
}

const CHROME_TAGS = new Set([
  "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
  "nav", "aside", "form", "button", "select", "textarea", "input", "dialog", "menu", "footer",
]);
const CHROME_ROLES = new Set([
  "navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog", "menu", "menubar",
]);

/** class/id tokens of page chrome; matched at the start of a class/id word. */
const CHROME_PREFIX_RE =
  /(?:^|[\s_-])(?:cookie|consent|gdpr|ccpa|newsletter|subscri|breadcrumb|sidebar|widget|comment|disqus|advert|sponsor|promo|popup|modal|overlay|paywall|skip-?link|navbar|navigation|masthead|pagination|pager|related|recommend|share|sharing|social|signup|sign-up|login|banner-ad|ad-slot|adsbygoogle|outbrain|taboola)/i;
/** Short tokens that must match a whole class/id word. */
const CHROME_WORD_RE = /(?:^|[\s_-])(?:nav|menu|footer|header|ad|ads|tags|toolbar|more-stories|read-more|meta)(?:$|[\s_-])/i;

function isMainContainer(el: DomElement): boolean {
  const tag = tagOf(el);
  return tag === "main" || tag === "article" || el.attribs["role"] === "main";
}

function parentElement(el: DomElement): DomElement | undefined {
  const parent = el.parent;
  return parent !== null && "attribs" in parent ? (parent as DomElement) : undefined;
}

function isChrome(el: DomElement, insideMain: boolean, holdsMain: boolean): boolean {
  const tag = tagOf(el);
  if (CHROME_TAGS.has(tag)) return true;
  if (tag === "header" && !insideMain) return true; // a header inside the article holds its title
  const role = el.attribs["role"];
  if (role !== undefined && CHROME_ROLES.has(role.toLowerCase())) return true;
  if (isHidden(el) || el.attribs["aria-modal"] === "true") return true;
  if (tag === "html" || tag === "body" || isMainContainer(el) || holdsMain) return false;
  const words = `${el.attribs["class"] ?? ""} ${el.attribs["id"] ?? ""}`;
  if (words.trim() === "") return false;
  return CHROME_PREFIX_RE.test(words) || CHROME_WORD_RE.test(words);
}

const LINK_LIST_TAGS = new Set(["ul", "ol", "div", "section", "p", "table"]);

/**
 * Elements whose visible text is mostly link text (more than 70%), outermost
 * first. One post-order pass, no recursion.
 */
function linkHeavyElements(root: DomParent): DomElement[] {
  const order = preOrder(root);
  const textLen = new Map<DomElement, number>();
  const linkLen = new Map<DomElement, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const el = order[i];
    if (el === undefined) continue;
    let text = 0;
    let link = 0;
    for (const child of el.children) {
      if (isTextNode(child)) {
        text += child.data.replace(/\s+/g, "").length;
      } else if (isElement(child)) {
        text += textLen.get(child) ?? 0;
        link += linkLen.get(child) ?? 0;
      }
    }
    textLen.set(el, text);
    linkLen.set(el, tagOf(el) === "a" ? text : link);
  }
  const heavy = new Set<DomElement>();
  const out: DomElement[] = [];
  for (const el of order) {
    const parent = parentElement(el);
    if (parent !== undefined && heavy.has(parent)) {
      heavy.add(el);
      continue;
    }
    const text = textLen.get(el) ?? 0;
    if (LINK_LIST_TAGS.has(tagOf(el)) && text > 0 && (linkLen.get(el) ?? 0) / text > 0.7) {
      heavy.add(el);
      out.push(el);
    }
  }
  return out;
}

/**
 * Strips page chrome (scripts, nav, header, footer, asides, forms, cookie
 * banners, sidebars, related links...) and converts what is left of the single
 * main/article element, or of the body. Mutates `$`.
 */
function fallbackBlocks($: CheerioAPI): TextBlock[] {
  const all = preOrder($.root()[0] as DomRoot);
  // Which elements have a main/article element below them.
  const holdsMain = new Set<DomElement>();
  for (let i = all.length - 1; i >= 0; i--) {
    const el = all[i];
    const parent = el === undefined ? undefined : parentElement(el);
    if (el !== undefined && parent !== undefined && (isMainContainer(el) || holdsMain.has(el))) holdsMain.add(parent);
  }
  const insideMain = new Set<DomElement>();
  const removed = new Set<DomElement>();
  const mains: DomElement[] = [];
  const articles: DomElement[] = [];
  let body: DomElement | undefined;
  for (const el of all) {
    const parent = parentElement(el);
    if (parent !== undefined && removed.has(parent)) {
      removed.add(el);
      continue;
    }
    const inside = parent !== undefined && (insideMain.has(parent) || isMainContainer(parent));
    if (inside) insideMain.add(el);
    if (isChrome(el, inside, holdsMain.has(el))) {
      removed.add(el);
      continue;
    }
    const tag = tagOf(el);
    if (tag === "main" || el.attribs["role"] === "main") mains.push(el);
    else if (tag === "article") articles.push(el);
    else if (tag === "body") body ??= el;
  }
  for (const el of removed) {
    const parent = parentElement(el);
    if (parent === undefined || !removed.has(parent)) $(el).remove();
  }
  let root: DomParent = body ?? ($.root()[0] as DomRoot);
  if (mains.length === 1 && mains[0] !== undefined) root = mains[0];
  else if (articles.length === 1 && articles[0] !== undefined) root = articles[0];
  for (const el of linkHeavyElements(root)) $(el).remove();
  return walkToBlocks(root, { blankLineParagraphs: false });
}

/** Title candidates (og:title, twitter:title, <title>, first h1) and <html lang>, in one pass. */
function documentFacts($: CheerioAPI): { title?: string; lang?: string } {
  let og: string | undefined;
  let twitter: string | undefined;
  let titleTag: string | undefined;
  let h1: string | undefined;
  let lang: string | undefined;
  for (const el of preOrder($.root()[0] as DomRoot)) {
    const tag = tagOf(el);
    if (tag === "meta") {
      const key = (el.attribs["property"] ?? el.attribs["name"] ?? "").toLowerCase();
      if (key === "og:title") og ??= nonEmpty(el.attribs["content"]);
      else if (key === "twitter:title") twitter ??= nonEmpty(el.attribs["content"]);
    } else if (tag === "title") {
      titleTag ??= nonEmpty(rawText(el));
    } else if (tag === "h1") {
      h1 ??= nonEmpty(rawText(el));
    } else if (tag === "html") {
      lang ??= nonEmpty(el.attribs["lang"]);
    }
  }
  return { title: og ?? twitter ?? titleTag ?? h1, lang };
}

// ---------------------------------------------------------------------------
// Public API.

/** Below this many characters of text, a Readability result is "too little" and the fallback is tried. */
const MIN_READABILITY_CHARS = 200;

function textLength(blocks: TextBlock[]): number {
  let n = 0;
  for (const b of blocks) n += b.text.length;
  return n;
}

function compact<T extends Record<string, unknown>>(obj: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== "") out[k] = v;
  return out;
}

/**
 * Extracts readable text blocks from HTML. Never throws on malformed markup;
 * throws ExtractionError("empty") when no text is found.
 */
export function extractHtml(html: string, options: ExtractHtmlOptions = {}): ExtractedDocument {
  const input = typeof html === "string" ? html.replaceAll("\u0000", "") : "";
  try {
    return extractStructured(stripWordPressMarkup(input), options.mode ?? "article");
  } catch (error) {
    if (error instanceof ExtractionError) throw error;
    // Safety net for pathological markup (a bug or a resource limit in a parser):
    // plain text of the whole input, paragraphs on blank lines.
    return lastResort(input, error);
  }
}

function lastResort(html: string, cause: unknown): ExtractedDocument {
  let text: string;
  try {
    text = rawText(loadHtml(html, true, true).root()[0] as DomRoot);
  } catch {
    text = html.replace(/<[^>]*>/g, " ");
  }
  const blocks: TextBlock[] = text
    .split(/\n\s*\n/)
    .map((part) => cleanInline(part).replace(/\n/g, " "))
    .filter((part) => part !== "")
    .map((part) => ({ kind: "paragraph", text: part }));
  if (blocks.length === 0) throw new ExtractionError("empty", "HTML has no text content", { cause });
  return { blocks, meta: { extractor: "fallback" satisfies HtmlExtractor } };
}

function extractStructured(source: string, mode: "article" | "full"): ExtractedDocument {
  if (mode === "full") {
    const $ = loadHtml(source, false, estimateDepth(source) > MAX_PARSE5_DEPTH);
    const blocks = walkToBlocks($.root()[0] as DomRoot, { blankLineParagraphs: true });
    if (blocks.length === 0) throw new ExtractionError("empty", "HTML fragment has no text content");
    const { title } = documentFacts($);
    return { ...(title === undefined ? {} : { title }), blocks, meta: { extractor: "fragment" satisfies HtmlExtractor } };
  }

  const { article, tooDeep } = runReadability(source);
  let blocks: TextBlock[] = [];
  if (article !== null) {
    blocks = walkToBlocks(loadHtml(article.contentHtml, false, false).root()[0] as DomRoot, { blankLineParagraphs: false });
  }
  // The whole page through cheerio, only when needed (no title from Readability, or the fallback).
  let $page: CheerioAPI | undefined;
  const page = (): CheerioAPI => ($page ??= loadHtml(source, true, tooDeep || estimateDepth(source) > MAX_PARSE5_DEPTH));
  const facts = article?.title === undefined ? documentFacts(page()) : {};
  let extractor: HtmlExtractor = "readability";
  if (article === null || textLength(blocks) < MIN_READABILITY_CHARS) {
    // With so little text Readability found no article and fell back on loose
    // scoring, which keeps banners and link lists; the heuristic strips those.
    const fallback = fallbackBlocks(page());
    if (fallback.length > 0) {
      blocks = fallback;
      extractor = "fallback";
    }
  }
  if (blocks.length === 0) throw new ExtractionError("empty", "HTML page has no text content");

  const title = article?.title ?? facts.title;
  const meta = compact({
    extractor,
    lang: article?.lang ?? facts.lang,
    byline: article?.byline,
    excerpt: article?.excerpt,
    siteName: article?.siteName,
    publishedTime: article?.publishedTime,
  });
  return { ...(title === undefined ? {} : { title }), blocks, meta };
}
