import { describe, expect, it } from "vitest";
import { decodeTextBytes, extractText, normalizeText, stripInlineMarkdown } from "../../../src/ingest/extract/text.ts";
import { expectEmpty } from "../../support/extraction.ts";


describe("normalizeText", () => {
  it("strips the BOM, turns CRLF and CR into LF and trims trailing spaces", () => {
    expect(normalizeText("\uFEFFone  \r\ntwo\t\rthree \r\n")).toBe("one\ntwo\nthree\n");
  });

  it("composes decomposed characters (NFC)", () => {
    const decomposed = "Cafe\u0301 cre\u0300me"; // e + combining acute, e + combining grave
    const out = normalizeText(decomposed);
    expect(out).toBe("Café crème");
    expect(out.length).toBe(decomposed.length - 2);
  });

  it("collapses three or more blank lines and drops control characters", () => {
    expect(normalizeText("a\n\n\n\n\nb\u0000\u0007c\fd")).toBe("a\n\nbc\nd");
    expect(normalizeText("a\n\n\n\nb", { collapseBlankLines: false })).toBe("a\n\n\n\nb");
  });
});

describe("extractText: plain text", () => {
  it("splits paragraphs on blank lines after normalising", () => {
    const doc = extractText("\uFEFFFirst line\r\nsecond line   \r\n\r\n\r\n\r\nNext para\rcontinues\r\rLast cafe\u0301\n");
    expect(doc.meta["extractor"]).toBe("text");
    expect(doc.blocks).toEqual([
      { kind: "paragraph", text: "First line\nsecond line" },
      { kind: "paragraph", text: "Next para\ncontinues" },
      { kind: "paragraph", text: "Last café" },
    ]);
  });

  it("does not interpret Markdown-looking lines", () => {
    const doc = extractText("# Not a heading\n- not a list\n\n```\ncode?\n```");
    expect(doc.blocks.every((b) => b.kind === "paragraph")).toBe(true);
    expect(doc.blocks[0]?.text).toBe("# Not a heading\n- not a list");
    expect(doc.title).toBeUndefined();
  });

  it("uses the given title", () => {
    expect(extractText("body", { title: " Handbook " }).title).toBe("Handbook");
  });

  it("throws ExtractionError('empty') for blank input", () => {
    expectEmpty(() => extractText(""));
    expectEmpty(() => extractText("\uFEFF \r\n\t\r\n"));
    expectEmpty(() => extractText("---\n\n***\n", { markdown: true }));
  });
});

describe("extractText: Markdown", () => {
  it("turns ATX and setext headings into heading blocks with levels", () => {
    const md = [
      "# One",
      "## Two ##",
      "### Three",
      "#### Four",
      "##### Five",
      "###### Six",
      "####### seven is not a heading",
      "#hashtag is not a heading",
      "",
      "Setext one",
      "==========",
      "",
      "Setext *two*",
      "---",
    ].join("\r\n");
    const doc = extractText(md, { markdown: true });
    expect(doc.meta["extractor"]).toBe("markdown");
    expect(doc.blocks).toEqual([
      { kind: "heading", text: "One", level: 1 },
      { kind: "heading", text: "Two", level: 2 },
      { kind: "heading", text: "Three", level: 3 },
      { kind: "heading", text: "Four", level: 4 },
      { kind: "heading", text: "Five", level: 5 },
      { kind: "heading", text: "Six", level: 6 },
      { kind: "paragraph", text: "####### seven is not a heading #hashtag is not a heading" },
      { kind: "heading", text: "Setext one", level: 1 },
      { kind: "heading", text: "Setext two", level: 2 },
    ]);
    expect(doc.title).toBe("One");
  });

  it("keeps fenced code verbatim, including blank lines, indentation and Markdown-looking lines", () => {
    const code = "def f(x):\n    # not a heading\n\n\n\n    return x  * 2\n- not a list";
    const md = `Intro.\n\n\`\`\`python\n${code}\n\`\`\`\n\n~~~~\ntilde fence\n~~~~\n\n    indented code\n\n      deeper\n\nAfter.`;
    const doc = extractText(md, { markdown: true });
    expect(doc.blocks).toEqual([
      { kind: "paragraph", text: "Intro." },
      { kind: "code", text: code },
      { kind: "code", text: "tilde fence" },
      { kind: "code", text: "indented code\n\n  deeper" },
      { kind: "paragraph", text: "After." },
    ]);
  });

  it("keeps an unclosed fence to the end of the document", () => {
    const doc = extractText("Text\n\n```\nline 1\n\nline 2", { markdown: true });
    expect(doc.blocks[1]).toEqual({ kind: "code", text: "line 1\n\nline 2" });
  });

  it("turns list runs into list blocks, nested levels indented", () => {
    const md = [
      "Shopping:",
      "",
      "* Fruit",
      "    * Apple",
      "        + Braeburn",
      "    * Pear",
      "  continued lazily",
      "* Vegetables",
      "",
      "* After a blank line",
      "",
      "3. three",
      "4) four",
      "",
      "Not a list: 2019. was a year",
    ].join("\n");
    const doc = extractText(md, { markdown: true });
    expect(doc.blocks).toEqual([
      { kind: "paragraph", text: "Shopping:" },
      { kind: "list", text: "- Fruit\n  - Apple\n    - Braeburn\n  - Pear continued lazily\n- Vegetables\n- After a blank line" },
      { kind: "list", text: "3. three\n4. four" },
      { kind: "paragraph", text: "Not a list: 2019. was a year" },
    ]);
  });

  it("turns GFM tables into table blocks and keeps escaped pipes", () => {
    const md = "| Name | Value |\n|:-----|------:|\n| a \\| b | `x|y` |\n| **c** | 3 |\n\nAfter";
    const doc = extractText(md, { markdown: true });
    expect(doc.blocks).toEqual([
      { kind: "table", text: "Name | Value\na | b | x|y\nc | 3" },
      { kind: "paragraph", text: "After" },
    ]);
  });

  it("turns block quotes into quote blocks", () => {
    const doc = extractText("> Quoted **text**\ncontinued lazily\n>\n> - quoted item\n\nAfter", { markdown: true });
    expect(doc.blocks).toEqual([
      { kind: "quote", text: "Quoted text continued lazily\n- quoted item" },
      { kind: "paragraph", text: "After" },
    ]);
  });

  it("reduces inline markup to its text and joins soft-wrapped lines", () => {
    const md = "Some **bold**, _em_ and *em*, snake_case_name, 2*3*4, [a link](https://x.test/a_(b) \"t\"),\n![an image](i.png), `code *x*`, \\*literal\\*, <https://auto.test>, ~~gone~~.";
    expect(extractText(md, { markdown: true }).blocks).toEqual([
      {
        kind: "paragraph",
        text: "Some bold, em and em, snake_case_name, 2*3*4, a link, an image, code *x*, *literal*, https://auto.test, gone.",
      },
    ]);
    expect(stripInlineMarkdown("[ref link][1] and __strong__")).toBe("ref link and strong");
  });

  it("takes the title from front matter, and drops the front matter", () => {
    const doc = extractText('---\ntitle: "Install guide"\ndate: 2024-01-01\n---\n# Heading\n\nBody', { markdown: true });
    expect(doc.title).toBe("Install guide");
    expect(doc.blocks).toEqual([
      { kind: "heading", text: "Heading", level: 1 },
      { kind: "paragraph", text: "Body" },
    ]);
    expect(extractText("# Heading\n\nBody", { markdown: true, title: "Given" }).title).toBe("Given");
  });

  it("normalises Markdown the same way (CRLF, BOM, NFC)", () => {
    const doc = extractText("\uFEFF# Cafe\u0301\r\n\r\nLine one\r\nline two", { markdown: true });
    expect(doc.blocks).toEqual([
      { kind: "heading", text: "Café", level: 1 },
      { kind: "paragraph", text: "Line one line two" },
    ]);
  });
});

describe("decodeTextBytes", () => {
  const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

  it("follows a UTF-16 byte order mark", () => {
    // "Aé€" in UTF-16LE and UTF-16BE, with BOM.
    expect(decodeTextBytes(bytes(0xff, 0xfe, 0x41, 0x00, 0xe9, 0x00, 0xac, 0x20))).toBe("Aé€");
    expect(decodeTextBytes(bytes(0xfe, 0xff, 0x00, 0x41, 0x00, 0xe9, 0x20, 0xac))).toBe("Aé€");
    // The BOM wins over a wrong hint.
    expect(decodeTextBytes(bytes(0xff, 0xfe, 0x41, 0x00), "windows-1252")).toBe("A");
  });

  it("strips a UTF-8 BOM", () => {
    const out = decodeTextBytes(bytes(0xef, 0xbb, 0xbf, 0x63, 0xc3, 0xa9));
    expect(out).toBe("cé");
    expect(out.charCodeAt(0)).not.toBe(0xfeff);
  });

  it("decodes valid UTF-8 as UTF-8 and falls back to windows-1252 otherwise", () => {
    expect(decodeTextBytes(new TextEncoder().encode("naïve – “quotes” 😀"))).toBe("naïve – “quotes” 😀");
    // "café “x” €" in windows-1252: invalid as UTF-8.
    expect(decodeTextBytes(bytes(0x63, 0x61, 0x66, 0xe9, 0x20, 0x93, 0x78, 0x94, 0x20, 0x80))).toBe("café “x” €");
  });

  it("uses a known charset hint and ignores an unknown one", () => {
    expect(decodeTextBytes(bytes(0xb9, 0xe8), "ISO-8859-2")).toBe("šč");
    expect(decodeTextBytes(bytes(0x82, 0xa0), "Shift_JIS")).toBe("あ");
    expect(decodeTextBytes(bytes(0x63, 0xc3, 0xa9), "no-such-charset")).toBe("cé");
    expect(decodeTextBytes(bytes(0x63, 0xe9), "utf-8")).toBe("cé"); // invalid UTF-8 despite the hint
  });

  it("recognises UTF-16 without a BOM from its NUL bytes", () => {
    const le = new Uint8Array(Buffer.from("plain ASCII text in UTF-16", "utf16le"));
    expect(decodeTextBytes(le)).toBe("plain ASCII text in UTF-16");
    const be = Uint8Array.from(le, (_, i) => le[i ^ 1] ?? 0);
    expect(decodeTextBytes(be)).toBe("plain ASCII text in UTF-16");
  });

  it("feeds extractText", () => {
    const file = bytes(0xff, 0xfe, ...[..."a\r\n\r\nb"].flatMap((c) => [c.charCodeAt(0), 0]));
    expect(extractText(decodeTextBytes(file)).blocks.map((b) => b.text)).toEqual(["a", "b"]);
  });
});
