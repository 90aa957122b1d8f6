// Bytes → text for fetched documents.
//
// Order of precedence (close to the WHATWG "encoding sniffing" algorithm):
//   1. a byte order mark (UTF-8, UTF-16LE/BE) — always wins;
//   2. the charset parameter of the Content-Type header;
//   3. for HTML/XML (or unknown types): <meta charset>, <meta http-equiv=
//      "content-type" content="...charset=...">, or <?xml encoding?> in the
//      first META_SCAN_BYTES bytes. A meta naming a legacy charset is ignored
//      when the bytes contain non-ASCII and are valid UTF-8 (CMS templates
//      often keep an old meta after the content moved to UTF-8);
//   4. otherwise UTF-8 when the bytes are valid UTF-8, else windows-1252.
// Legacy charsets (Shift_JIS, EUC-JP, GBK/GB18030, Big5, EUC-KR,
// windows-125x, ISO-8859-x, KOI8...) decode through TextDecoder (full ICU).

/** How far into the body we look for a <meta> charset declaration (spec: 1024; real pages need more). */
export const META_SCAN_BYTES = 4096;

export type CharsetSource = "bom" | "header" | "meta" | "xml-declaration" | "utf8-detected" | "default";

export interface SniffedCharset {
  /** A WHATWG encoding name accepted by TextDecoder, e.g. "utf-8", "shift_jis". */
  encoding: string;
  source: CharsetSource;
}

export interface DecodeOptions {
  /**
   * The bytes are a prefix cut at an arbitrary point (FetchResult.truncated):
   * an incomplete UTF-8 sequence at the very end does not count against UTF-8.
   */
  truncated?: boolean;
}

/** Decodes a response body to a string; see the module comment for the rules. */
export function decodeBody(bytes: Uint8Array, contentTypeHeader?: string | null, options: DecodeOptions = {}): string {
  const { encoding } = sniffCharset(bytes, contentTypeHeader, options);
  return new TextDecoder(encoding).decode(bytes);
}

export function sniffCharset(bytes: Uint8Array, contentTypeHeader?: string | null, options: DecodeOptions = {}): SniffedCharset {
  const isUtf8 = (): boolean => isValidUtf8(bytes, options.truncated ?? false);
  const bom = bomEncoding(bytes);
  if (bom !== null) return { encoding: bom, source: "bom" };

  const { essence, charset } = parseContentType(contentTypeHeader ?? "");
  const fromHeader = charset === undefined ? null : normaliseEncoding(charset);
  if (fromHeader !== null) return { encoding: fromHeader, source: "header" };

  const markup = essence === "" || essence === "text/html" || essence === "application/xhtml+xml" || essence.endsWith("+xml") || essence.endsWith("/xml");
  if (markup) {
    const head = latin1(bytes.subarray(0, META_SCAN_BYTES));
    const xml = xmlDeclarationCharset(head);
    const declared = xml ?? metaCharset(head);
    const source: CharsetSource = xml !== null ? "xml-declaration" : "meta";
    if (declared !== null) {
      let encoding = normaliseEncoding(declared);
      if (encoding !== null) {
        // As in the HTML spec: a meta cannot switch to UTF-16 (the bytes would already say so).
        if (encoding === "utf-16le" || encoding === "utf-16be") encoding = "utf-8";
        if (encoding === "x-user-defined") encoding = "windows-1252";
        if (encoding !== "utf-8" && hasNonAscii(bytes) && isUtf8()) return { encoding: "utf-8", source: "utf8-detected" };
        return { encoding, source };
      }
    }
  }
  if (isUtf8()) return { encoding: "utf-8", source: hasNonAscii(bytes) ? "utf8-detected" : "default" };
  return { encoding: "windows-1252", source: "default" };
}

/** Splits a Content-Type header into its lower-case essence and charset parameter. */
export function parseContentType(header: string): { essence: string; charset: string | undefined } {
  const [type = "", ...params] = header.split(";");
  let charset: string | undefined;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq === -1) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").trim();
    break;
  }
  return { essence: type.trim().toLowerCase(), charset };
}

/** Maps a charset label to the TextDecoder encoding name, or null when unknown. */
export function normaliseEncoding(label: string): string | null {
  const trimmed = label.trim();
  if (trimmed === "") return null;
  try {
    return new TextDecoder(trimmed).encoding;
  } catch {
    return null;
  }
}

function bomEncoding(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return "utf-8";
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  return null;
}

function hasNonAscii(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte >= 0x80) return true;
  return false;
}

/** Valid UTF-8; with `allowCutTail`, an incomplete sequence at the very end is tolerated. */
export function isValidUtf8(bytes: Uint8Array, allowCutTail = false): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: allowCutTail });
    return true;
  } catch {
    return false;
  }
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

function xmlDeclarationCharset(head: string): string | null {
  const match = /^<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']+)["']/.exec(head);
  return match?.[1] ?? null;
}

/** The charset named by the first qualifying <meta> in the (latin1-decoded) head, if any. */
export function metaCharset(head: string): string | null {
  const text = head.replace(/<!--[\s\S]*?(?:-->|$)/g, "");
  const metaRe = /<meta[\s/]([^>]*)>?/gi;
  for (let match = metaRe.exec(text); match !== null; match = metaRe.exec(text)) {
    const attrs = parseAttributes(match[1] ?? "");
    const charset = attrs.get("charset");
    if (charset !== undefined && charset.trim() !== "") return charset.trim();
    const httpEquiv = attrs.get("http-equiv");
    const content = attrs.get("content");
    if (httpEquiv?.trim().toLowerCase() === "content-type" && content !== undefined) {
      const fromContent = charsetFromContent(content);
      if (fromContent !== null) return fromContent;
    }
  }
  return null;
}

function parseAttributes(source: string): Map<string, string> {
  const attrs = new Map<string, string>();
  const attrRe = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  for (let match = attrRe.exec(source); match !== null; match = attrRe.exec(source)) {
    const name = (match[1] ?? "").toLowerCase();
    if (!attrs.has(name)) attrs.set(name, match[2] ?? match[3] ?? match[4] ?? "");
  }
  return attrs;
}

/** "text/html; charset=Shift_JIS" → "Shift_JIS" (the spec's "extract a character encoding from a meta element"). */
function charsetFromContent(content: string): string | null {
  const match = /charset\s*=\s*(?:"([^"]*)"?|'([^']*)'?|([^\s;"']+))/i.exec(content);
  if (match === null) return null;
  const value = (match[1] ?? match[2] ?? match[3] ?? "").trim();
  return value === "" ? null : value;
}
