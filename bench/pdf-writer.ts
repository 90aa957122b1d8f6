// A minimal PDF writer for the benchmark corpus: text-only PDF 1.4 files with the
// standard Helvetica / Helvetica-Bold fonts (no embedding), uncompressed content
// streams, one text object per page, an Info dictionary with the title and a correct
// xref table. The same structure as samples/trailhead-manual.pdf, generated.
//
// Text is WinAnsi (Latin-1 subset): callers pass ASCII prose; other characters are
// replaced by "?".

export type PdfBlock = { kind: "heading"; text: string } | { kind: "paragraph"; text: string } | { kind: "item"; text: string };

export interface PdfOptions {
  title: string;
  blocks: PdfBlock[];
  /** Characters per wrapped line. Default 88 (about the width of 10.5 pt Helvetica on Letter). */
  lineChars?: number;
  /** Lines per page. Default 50. */
  linesPerPage?: number;
}

const PAGE_W = 612;
const PAGE_H = 792;
const MARGIN = 72;
const LEADING = 13;

function pdfString(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "(" || ch === ")" || ch === "\\") out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += "?";
  }
  return `(${out})`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (word === "") continue;
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

type Line = { font: "F1" | "F2"; size: number; text: string } | { gap: true };

/** Renders blocks into a PDF file (bytes). */
export function writePdf(options: PdfOptions): Buffer {
  const width = options.lineChars ?? 88;
  const perPage = options.linesPerPage ?? 50;
  const lines: Line[] = [{ font: "F2", size: 16, text: options.title }, { gap: true }];
  for (const b of options.blocks) {
    if (b.kind === "heading") {
      lines.push({ gap: true }, { font: "F2", size: 12.5, text: b.text });
    } else if (b.kind === "item") {
      wrap(b.text, width - 4).forEach((t, i) => lines.push({ font: "F1", size: 10.5, text: `${i === 0 ? "-" : " "} ${t}` }));
    } else {
      for (const t of wrap(b.text, width)) lines.push({ font: "F1", size: 10.5, text: t });
      lines.push({ gap: true });
    }
  }
  const pages: Line[][] = [];
  for (let i = 0; i < lines.length; i += perPage) pages.push(lines.slice(i, i + perPage));

  const objects: string[] = [];
  const add = (body: string): number => objects.push(body); // object number = index + 1
  const f1 = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  const f2 = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>");
  const pagesNum = objects.length + 2 * pages.length + 1;
  const pageNums: number[] = [];
  pages.forEach((page, p) => {
    const ops: string[] = ["BT", `${MARGIN} ${PAGE_H - MARGIN} Td`, `${LEADING} TL`];
    let current = "";
    for (const l of page) {
      if ("gap" in l) {
        ops.push("T*");
        continue;
      }
      const font = `/${l.font} ${l.size} Tf`;
      if (font !== current) {
        ops.push(font);
        current = font;
      }
      ops.push(`${pdfString(l.text)} Tj T*`);
    }
    ops.push("ET");
    // Running footer, as most manuals have.
    ops.push("BT", `/F1 8 Tf ${MARGIN} 40 Td`, `${pdfString(`${options.title} - page ${p + 1} of ${pages.length}`)} Tj`, "ET");
    const stream = ops.join("\n");
    const content = add(`<< /Length ${Buffer.byteLength(stream, "latin1")} >>\nstream\n${stream}\nendstream`);
    pageNums.push(
      add(
        `<< /Type /Page /Parent ${pagesNum} 0 R /MediaBox [0 0 ${PAGE_W} ${PAGE_H}] ` +
          `/Resources << /Font << /F1 ${f1} 0 R /F2 ${f2} 0 R >> >> /Contents ${content} 0 R >>`,
      ),
    );
  });
  const pagesObj = add(`<< /Type /Pages /Kids [${pageNums.map((n) => `${n} 0 R`).join(" ")}] /Count ${pageNums.length} >>`);
  if (pagesObj !== pagesNum) throw new Error("pdf-writer: object numbering is off");
  const info = add(`<< /Title ${pdfString(options.title)} /Producer (botkit-worker bench) >>`);
  const catalog = add(`<< /Type /Catalog /Pages ${pagesObj} 0 R >>`);

  let out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, "latin1"));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}
