// Plain text and Markdown → ExtractedDocument, and byte decoding for text files.
//
// Plain text: normalised, then paragraphs split on blank lines (line breaks
// inside a paragraph are kept; nothing is interpreted as markup).
// Markdown: a small block parser (CommonMark-ish, no dependency): ATX and setext
// headings, fenced and indented code (verbatim), lists (nested levels
// indented), GFM tables, block quotes, thematic breaks, YAML front matter.
// Inline markup (emphasis, links, images, code spans, escapes) is reduced to
// its text.
import { ExtractionError } from "../types.ts";
import type { ExtractedDocument, TextBlock } from "../types.ts";

export interface ExtractTextOptions {
  /** Parse Markdown structure (default false: plain text). */
  markdown?: boolean;
  /** Document title; for Markdown without one, front matter `title:` or a leading `# heading` is used. */
  title?: string;
}

// ---------------------------------------------------------------------------
// Decoding.

function label(encoding: string): string | undefined {
  try {
    return new TextDecoder(encoding.trim()).encoding;
  } catch {
    return undefined;
  }
}

/** Share of NUL bytes at even and odd offsets in the first 4 KiB (UTF-16 text without a BOM). */
function utf16WithoutBom(bytes: Uint8Array): "utf-16le" | "utf-16be" | undefined {
  const n = Math.min(bytes.length, 4096) & ~1;
  if (n < 4) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenNul++;
    if (bytes[i + 1] === 0) oddNul++;
  }
  const pairs = n / 2;
  if (oddNul / pairs > 0.3 && evenNul / pairs < 0.05) return "utf-16le";
  if (evenNul / pairs > 0.3 && oddNul / pairs < 0.05) return "utf-16be";
  return undefined;
}

/**
 * Decodes a text file: a byte order mark (UTF-8, UTF-16LE/BE) wins; else the
 * charset hint (e.g. from Content-Type) if the platform knows it; else UTF-16
 * recognised by its NUL pattern; else UTF-8, falling back to windows-1252 when
 * the bytes are not valid UTF-8. The BOM is not part of the result.
 */
export function decodeTextBytes(bytes: Uint8Array, charsetHint?: string): string {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 === 0xef && b1 === 0xbb && bytes[2] === 0xbf) return new TextDecoder("utf-8").decode(bytes.subarray(3));
  if (b0 === 0xff && b1 === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (b0 === 0xfe && b1 === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));

  const hinted = charsetHint === undefined ? undefined : label(charsetHint);
  if (hinted !== undefined && hinted !== "utf-8") return stripBom(new TextDecoder(hinted).decode(bytes));

  const utf16 = hinted === undefined ? utf16WithoutBom(bytes) : undefined;
  if (utf16 !== undefined) return stripBom(new TextDecoder(utf16).decode(bytes));

  try {
    return stripBom(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

// ---------------------------------------------------------------------------
// Normalisation.

// C0 controls other than tab, LF, FF, CR; DEL. (Form feed and CR are turned into LF.)
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000E-\u001F\u007F]/g;

/**
 * Strips a BOM, turns CRLF/CR (and form feed, U+2028/U+2029) into LF, removes
 * other control characters, applies Unicode NFC and trims trailing spaces on
 * every line. With `collapseBlankLines`, runs of blank lines become one.
 */
export function normalizeText(text: string, options: { collapseBlankLines?: boolean } = {}): string {
  let s = stripBom(text)
    .replace(/\r\n?|[\f\u2028\u2029]/g, "\n")
    .replace(CONTROL_CHARS, "")
    .normalize("NFC")
    .replace(/[^\S\n]+$/gm, "");
  if (options.collapseBlankLines ?? true) s = s.replace(/\n{3,}/g, "\n\n");
  return s;
}

// ---------------------------------------------------------------------------
// Plain text.

function plainBlocks(text: string): TextBlock[] {
  const blocks: TextBlock[] = [];
  for (const part of text.split(/\n[^\S\n]*\n/)) {
    const lines = part.split("\n");
    while (lines.length > 0 && lines[0]?.trim() === "") lines.shift();
    while (lines.length > 0 && lines[lines.length - 1]?.trim() === "") lines.pop();
    const paragraph = lines.join("\n");
    if (paragraph.trim() !== "") blocks.push({ kind: "paragraph", text: paragraph });
  }
  return blocks;
}

// ---------------------------------------------------------------------------
// Markdown inline markup.

const PLACEHOLDER = /\uE001(\d+)\uE002/g;

/** Reduces inline Markdown to its text: code spans, links, images, emphasis, escapes. */
export function stripInlineMarkdown(input: string): string {
  const kept: string[] = [];
  const keep = (s: string): string => `\uE001${kept.push(s) - 1}\uE002`;
  let s = input
    // Code spans first: nothing inside them is markup.
    .replace(/(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g, (_m, _ticks: string, code: string) => keep(code.replace(/^ (.*) $/s, "$1")))
    // Backslash escapes: the character is literal.
    .replace(/\\([!-/:-@[-`{-~])/g, (_m, ch: string) => keep(ch))
    // Autolinks.
    .replace(/<((?:https?|ftp|mailto):[^<>\s]+)>/gi, "$1")
    // Images and links: their text; reference-style too.
    .replace(/!\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g, "$1")
    .replace(/\[([^\]]+)\]\((?:[^()\s]|\([^()]*\))*(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g, "$1")
    .replace(/!?\[([^\]]+)\]\[[^\]]*\]/g, "$1");
  // Emphasis (strong, then em), strikethrough. "_" only at word boundaries (snake_case stays).
  for (let pass = 0; pass < 2; pass++) {
    s = s
      .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "$1")
      .replace(/(?<![\p{L}\p{N}_])__(?=\S)([\s\S]*?\S)__(?![\p{L}\p{N}_])/gu, "$1")
      .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "$1")
      .replace(/(?<![\\*\p{L}\p{N}])\*(?=[^\s*])([^*]*?[^\s*])\*(?![*\p{L}\p{N}])/gu, "$1")
      .replace(/(?<![\p{L}\p{N}_])_(?=[^\s_])([^_]*?[^\s_])_(?![\p{L}\p{N}_])/gu, "$1");
  }
  return s.replace(PLACEHOLDER, (_m, i: string) => kept[Number(i)] ?? "");
}

function inlineText(lines: string[]): string {
  return stripInlineMarkdown(
    lines
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .join(" "),
  )
    .replace(/[^\S\n]+/g, " ")
    .trim();
}

// ---------------------------------------------------------------------------
// Markdown blocks.

const FENCE_RE = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const ATX_RE = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))??(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_H1_RE = /^ {0,3}=+[ \t]*$/;
const SETEXT_H2_RE = /^ {0,3}-+[ \t]*$/;
const HR_RE = /^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$/;
const QUOTE_RE = /^ {0,3}> ?/;
const LIST_RE = /^([ \t]*)([-+*]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;
const INDENTED_RE = /^(?: {4}|\t)/;
const LINK_DEF_RE = /^ {0,3}\[[^\]]+\]:[ \t]*\S+/;
const TABLE_DELIM_RE = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

function isBlank(line: string | undefined): boolean {
  return line === undefined || line.trim() === "";
}

function indentWidth(ws: string): number {
  let w = 0;
  for (const ch of ws) w += ch === "\t" ? 4 - (w % 4) : 1;
  return w;
}

function splitRow(line: string): string[] {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
  const cells: string[] = [];
  let cell = "";
  let inCode = false;
  for (let i = 0; i < row.length; i++) {
    const ch = row[i];
    if (ch === "\\" && row[i + 1] === "|") {
      cell += "|";
      i++;
    } else if (ch === "`") {
      inCode = !inCode;
      cell += ch;
    } else if (ch === "|" && !inCode) {
      cells.push(cell);
      cell = "";
    } else {
      cell += ch;
    }
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

function isTableStart(lines: string[], i: number): boolean {
  const header = lines[i];
  const delim = lines[i + 1];
  if (header === undefined || delim === undefined || !header.includes("|")) return false;
  if (!TABLE_DELIM_RE.test(delim) || !delim.includes("-")) return false;
  if (!delim.includes("|") && splitRow(header).length < 2) return false;
  return splitRow(header).length === splitRow(delim).length;
}

/** "-" for bullets, "N." for ordered items (the number as written). */
function listMarker(raw: string): string {
  return /^\d/.test(raw) ? `${Number.parseInt(raw, 10)}.` : "-";
}

/** Does this line start a block that ends a paragraph or a lazy list continuation? */
function interrupts(lines: string[], i: number): boolean {
  const line = lines[i] ?? "";
  return (
    FENCE_RE.test(line) ||
    ATX_RE.test(line) ||
    HR_RE.test(line) ||
    QUOTE_RE.test(line) ||
    isTableStart(lines, i) ||
    /^ {0,3}<!--/.test(line)
  );
}

class MarkdownParser {
  readonly blocks: TextBlock[] = [];
  private readonly lines: string[];
  private i = 0;
  private para: string[] = [];

  constructor(lines: string[]) {
    this.lines = lines;
  }

  private push(block: TextBlock): void {
    if (block.text.trim() !== "") this.blocks.push(block);
  }

  private flushPara(): void {
    if (this.para.length === 0) return;
    this.push({ kind: "paragraph", text: inlineText(this.para) });
    this.para = [];
  }

  parse(): TextBlock[] {
    const { lines } = this;
    while (this.i < lines.length) {
      const line = lines[this.i] ?? "";
      if (isBlank(line)) {
        this.flushPara();
        this.i++;
        continue;
      }
      const fence = FENCE_RE.exec(line);
      if (fence !== null && !(fence[2]?.startsWith("`") && fence[3]?.includes("`"))) {
        this.flushPara();
        this.fenced(fence[1]?.length ?? 0, fence[2] ?? "```");
        continue;
      }
      if (this.para.length === 0 && INDENTED_RE.test(line)) {
        this.indentedCode();
        continue;
      }
      const atx = ATX_RE.exec(line);
      if (atx !== null) {
        this.flushPara();
        this.push({ kind: "heading", text: inlineText([atx[2] ?? ""]), level: atx[1]?.length ?? 1 });
        this.i++;
        continue;
      }
      if (this.para.length > 0 && (SETEXT_H1_RE.test(line) || SETEXT_H2_RE.test(line))) {
        const level = SETEXT_H1_RE.test(line) ? 1 : 2;
        this.push({ kind: "heading", text: inlineText(this.para), level });
        this.para = [];
        this.i++;
        continue;
      }
      if (HR_RE.test(line)) {
        this.flushPara();
        this.i++;
        continue;
      }
      if (QUOTE_RE.test(line)) {
        this.flushPara();
        this.quote();
        continue;
      }
      if (isTableStart(lines, this.i)) {
        this.flushPara();
        this.table();
        continue;
      }
      if (/^ {0,3}<!--/.test(line)) {
        this.flushPara();
        this.htmlComment();
        continue;
      }
      const item = LIST_RE.exec(line);
      // A list interrupts a paragraph only with a bullet or "1." and some text (CommonMark).
      if (item !== null && (this.para.length === 0 || ((item[3] ?? "") !== "" && /^(?:[-+*]|1[.)])$/.test(item[2] ?? "")))) {
        this.flushPara();
        this.list();
        continue;
      }
      if (this.para.length === 0 && LINK_DEF_RE.test(line)) {
        this.i++;
        continue;
      }
      this.para.push(line);
      this.i++;
    }
    this.flushPara();
    return this.blocks;
  }

  private fenced(indent: number, fence: string): void {
    const { lines } = this;
    const close = new RegExp(`^ {0,3}${fence[0] === "`" ? "`" : "~"}{${fence.length},}[ \\t]*$`);
    const body: string[] = [];
    this.i++;
    while (this.i < lines.length) {
      const line = lines[this.i] ?? "";
      this.i++;
      if (close.test(line)) break;
      body.push(line.replace(new RegExp(`^ {0,${indent}}`), ""));
    }
    while (body.length > 0 && body[0]?.trim() === "") body.shift();
    while (body.length > 0 && body[body.length - 1]?.trim() === "") body.pop();
    this.push({ kind: "code", text: body.join("\n") });
  }

  private indentedCode(): void {
    const { lines } = this;
    const body: string[] = [];
    while (this.i < lines.length) {
      const line = lines[this.i] ?? "";
      if (INDENTED_RE.test(line)) {
        body.push(line.replace(INDENTED_RE, ""));
        this.i++;
      } else if (isBlank(line)) {
        // A blank line stays inside the block only if indented code follows.
        let j = this.i;
        while (j < lines.length && isBlank(lines[j])) j++;
        if (j < lines.length && INDENTED_RE.test(lines[j] ?? "")) {
          for (; this.i < j; this.i++) body.push("");
        } else {
          break;
        }
      } else {
        break;
      }
    }
    this.push({ kind: "code", text: body.join("\n") });
  }

  private quote(): void {
    const { lines } = this;
    const inner: string[] = [];
    while (this.i < lines.length) {
      const line = lines[this.i] ?? "";
      if (QUOTE_RE.test(line)) {
        inner.push(line.replace(QUOTE_RE, ""));
      } else if (!isBlank(line) && !isBlank(inner[inner.length - 1]) && !interrupts(lines, this.i)) {
        inner.push(line); // lazy continuation of the quoted paragraph
      } else {
        break;
      }
      this.i++;
    }
    const blocks = new MarkdownParser(inner).parse();
    this.push({ kind: "quote", text: blocks.map((b) => b.text).join("\n") });
  }

  private table(): void {
    const { lines } = this;
    const rows: string[] = [];
    const header = splitRow(lines[this.i] ?? "").map((c) => stripInlineMarkdown(c));
    rows.push(header.join(" | "));
    this.i += 2;
    while (this.i < lines.length) {
      const line = lines[this.i] ?? "";
      if (isBlank(line) || !line.includes("|") || interrupts(lines, this.i)) break;
      const cells = splitRow(line).map((c) => stripInlineMarkdown(c));
      if (cells.some((c) => c !== "")) rows.push(cells.join(" | "));
      this.i++;
    }
    this.push({ kind: "table", text: rows.join("\n") });
  }

  private htmlComment(): void {
    const { lines } = this;
    while (this.i < lines.length) {
      const line = lines[this.i] ?? "";
      this.i++;
      if (line.includes("-->")) break;
    }
  }

  private list(): void {
    const { lines } = this;
    interface Item {
      level: number;
      marker: string;
      text: string[];
    }
    const items: Item[] = [];
    const stack: number[] = [];
    let afterBlank = false;
    let topOrdered = false;
    while (this.i < lines.length) {
      const line = lines[this.i] ?? "";
      if (isBlank(line)) {
        let j = this.i;
        while (j < lines.length && isBlank(lines[j])) j++;
        const next = lines[j];
        if (next === undefined) break;
        const nextIndent = indentWidth(/^[ \t]*/.exec(next)?.[0] ?? "");
        // The list goes on after blank lines with another item or an indented continuation.
        if ((LIST_RE.test(next) && !HR_RE.test(next)) || nextIndent >= 2) {
          this.i = j;
          afterBlank = true;
          continue;
        }
        break;
      }
      const m = HR_RE.test(line) ? null : LIST_RE.exec(line);
      const lineIndent = indentWidth(/^[ \t]*/.exec(line)?.[0] ?? "");
      if (m !== null) {
        const indent = indentWidth(m[1] ?? "");
        const ordered = /^\d/.test(m[2] ?? "");
        // A top-level item of the other kind (bullet vs ordered) starts a new list.
        if (items.length > 0 && indent <= (stack[0] ?? 0) + 1 && ordered !== topOrdered) break;
        if (items.length === 0) topOrdered = ordered;
        while (stack.length > 0 && indent < (stack[stack.length - 1] ?? 0)) stack.pop();
        if (stack.length === 0 || indent >= (stack[stack.length - 1] ?? 0) + 2) stack.push(indent);
        items.push({ level: stack.length - 1, marker: listMarker(m[2] ?? "-"), text: [m[3] ?? ""] });
        afterBlank = false;
        this.i++;
        continue;
      }
      const last = items[items.length - 1];
      if (last === undefined) break;
      const stripped = line.trim();
      const fence = FENCE_RE.exec(stripped);
      if (fence !== null && lineIndent >= 2) {
        // Fenced code inside an item: end this list block, emit the code verbatim.
        this.emitList(items);
        items.length = 0;
        const body: string[] = [];
        const fenceMark = fence[2] ?? "```";
        this.i++;
        while (this.i < lines.length) {
          const codeLine = lines[this.i] ?? "";
          this.i++;
          if (codeLine.trim().startsWith(fenceMark) && codeLine.trim().replace(/[`~]/g, "") === "") break;
          body.push(codeLine.slice(Math.min(lineIndent, indentWidth(/^[ \t]*/.exec(codeLine)?.[0] ?? ""))));
        }
        this.push({ kind: "code", text: body.join("\n").replace(/^\n+|\n+$/g, "") });
        continue;
      }
      if (lineIndent >= 2 || (!afterBlank && !interrupts(lines, this.i))) {
        last.text.push(stripped); // continuation (indented, or lazy)
        this.i++;
        continue;
      }
      break;
    }
    this.emitList(items);
  }

  private emitList(items: Array<{ level: number; marker: string; text: string[] }>): void {
    const out: string[] = [];
    for (const item of items) {
      const text = inlineText(item.text);
      if (text === "") continue;
      out.push(`${"  ".repeat(item.level)}${item.marker} ${text}`);
    }
    this.push({ kind: "list", text: out.join("\n") });
  }
}

function frontMatter(text: string): { body: string; title?: string } {
  const m = /^---[ \t]*\n([\s\S]*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)/.exec(text);
  if (m === null) return { body: text };
  const yaml = m[1] ?? "";
  // Only YAML-looking blocks (key: value lines), not a document that opens with a rule.
  if (!/^[\w-]+[ \t]*:/m.test(yaml)) return { body: text };
  const title = /^title[ \t]*:[ \t]*(.+?)[ \t]*$/m.exec(yaml)?.[1]?.replace(/^(["'])(.*)\1$/, "$2").trim();
  return { body: text.slice(m[0].length), ...(title ? { title } : {}) };
}

// ---------------------------------------------------------------------------
// Public API.

/**
 * Extracts blocks from plain text or Markdown. Throws ExtractionError("empty")
 * when there is no text.
 */
export function extractText(text: string, options: ExtractTextOptions = {}): ExtractedDocument {
  const markdown = options.markdown ?? false;
  const normalized = normalizeText(typeof text === "string" ? text : "", { collapseBlankLines: !markdown });
  let title = options.title?.normalize("NFC").trim() || undefined;
  let blocks: TextBlock[];
  if (markdown) {
    const fm = frontMatter(normalized);
    blocks = new MarkdownParser(fm.body.split("\n")).parse();
    const first = blocks[0];
    title ??= fm.title ?? (first?.kind === "heading" && first.level === 1 ? first.text : undefined);
  } else {
    blocks = plainBlocks(normalized);
  }
  if (blocks.length === 0) throw new ExtractionError("empty", "text has no content");
  return { ...(title === undefined ? {} : { title }), blocks, meta: { extractor: markdown ? "markdown" : "text" } };
}
