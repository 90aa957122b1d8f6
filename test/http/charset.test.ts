import { describe, expect, it } from "vitest";
import { decodeBody, sniffCharset } from "../../src/http/charset.ts";

// Legacy encodings, written as bytes (TextEncoder only produces UTF-8).
const SJIS_NIHONGO = [0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea]; // 日本語 in Shift_JIS
const EUCJP_NIHONGO = [0xc6, 0xfc, 0xcb, 0xdc, 0xb8, 0xec]; // 日本語 in EUC-JP
const GB_ZHONGWEN = [0xd6, 0xd0, 0xce, 0xc4]; // 中文 in GB2312
const CP1251_PRIVET = [0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]; // Привет in windows-1251
const LATIN2_LODZ = [0xa3, 0xf3, 0x64, 0xbc]; // Łódź in ISO-8859-2
const BIG5_ZHONGWEN = [0xa4, 0xa4, 0xa4, 0xe5]; // 中文 in Big5

function page(head: string, body: number[], tail = "</p></body></html>"): Buffer {
  return Buffer.concat([Buffer.from(`<!doctype html><html><head>${head}</head><body><p>`, "latin1"), Buffer.from(body), Buffer.from(tail, "latin1")]);
}

describe("decodeBody", () => {
  it("uses the Content-Type charset", () => {
    expect(decodeBody(Buffer.from(SJIS_NIHONGO), "text/plain; charset=Shift_JIS")).toBe("日本語");
    expect(decodeBody(Buffer.from(EUCJP_NIHONGO), 'text/plain; charset="EUC-JP"')).toBe("日本語");
    expect(decodeBody(Buffer.from(GB_ZHONGWEN), "text/html;charset=gb2312")).toBe("中文");
    expect(decodeBody(Buffer.from(CP1251_PRIVET), "text/html; charset=windows-1251")).toBe("Привет");
    expect(decodeBody(Buffer.from(LATIN2_LODZ), "text/plain; charset=iso-8859-2")).toBe("Łódź");
    expect(decodeBody(Buffer.from(BIG5_ZHONGWEN), "text/plain; charset=big5")).toBe("中文");
  });

  it("reads <meta charset> when the header has none", () => {
    const html = decodeBody(page('<meta charset="shift_jis"><title>t</title>', SJIS_NIHONGO), "text/html");
    expect(html).toContain("<p>日本語</p>");
    expect(sniffCharset(page("<meta charset=euc-jp>", EUCJP_NIHONGO), "text/html")).toEqual({ encoding: "euc-jp", source: "meta" });
    expect(decodeBody(page("<meta charset=euc-jp>", EUCJP_NIHONGO), "text/html")).toContain("日本語");
  });

  it("reads <meta http-equiv=Content-Type content=...charset=...>", () => {
    const body = page('<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=GB2312">', GB_ZHONGWEN);
    expect(sniffCharset(body, null)).toEqual({ encoding: "gbk", source: "meta" });
    expect(decodeBody(body, null)).toContain("<p>中文</p>");
    const cyrillic = page("<meta http-equiv='content-type' content='text/html;charset=windows-1251'>", CP1251_PRIVET);
    expect(decodeBody(cyrillic, "text/html")).toContain("<p>Привет</p>");
  });

  it("finds a meta after 1024 bytes of head and ignores commented-out metas", () => {
    const filler = `<script>${"x".repeat(1500)}</script>`;
    const body = page(`<!-- <meta charset="koi8-r"> -->${filler}<meta charset="windows-1251">`, CP1251_PRIVET);
    expect(decodeBody(body, "text/html")).toContain("Привет");
  });

  it("header charset beats meta", () => {
    const body = page('<meta charset="utf-8">', CP1251_PRIVET);
    expect(decodeBody(body, "text/html; charset=windows-1251")).toContain("Привет");
  });

  it("decodes as UTF-8 when the meta names a legacy charset but the bytes are valid UTF-8", () => {
    const body = Buffer.from('<html><head><meta charset="iso-8859-1"></head><body>Grüße, 日本語</body></html>', "utf8");
    expect(sniffCharset(body, "text/html")).toEqual({ encoding: "utf-8", source: "utf8-detected" });
    expect(decodeBody(body, "text/html")).toContain("Grüße, 日本語");
    const sjisMeta = Buffer.from('<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"><p>日本語</p>', "utf8");
    expect(decodeBody(sjisMeta, "text/html")).toContain("<p>日本語</p>");
  });

  it("keeps the legacy meta when the bytes are not valid UTF-8", () => {
    expect(decodeBody(page('<meta charset="iso-8859-1">', [0x47, 0x72, 0xfc, 0xdf, 0x65]), "text/html")).toContain("Grüße");
  });

  it("a BOM wins over everything", () => {
    const utf8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("<meta charset=shift_jis>日本語", "utf8")]);
    expect(decodeBody(utf8, "text/html; charset=windows-1251")).toBe("<meta charset=shift_jis>日本語");
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("héllo", "utf16le")]);
    expect(decodeBody(utf16, "text/plain")).toBe("héllo");
  });

  it("meta cannot switch to UTF-16; unknown labels are ignored", () => {
    expect(sniffCharset(Buffer.from("<meta charset=utf-16><p>hi</p>"), "text/html").encoding).toBe("utf-8");
    expect(decodeBody(Buffer.from("<meta charset=bogus-9><p>día</p>", "utf8"), "text/html; charset=nonsense")).toContain("día");
  });

  it("reads the XML declaration for XHTML/XML", () => {
    const body = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="Shift_JIS"?><html><body>', "latin1"), Buffer.from(SJIS_NIHONGO), Buffer.from("</body></html>")]);
    expect(decodeBody(body, "application/xhtml+xml")).toContain("日本語");
  });

  it("ignores <meta> in text/plain and falls back to windows-1252 for invalid UTF-8", () => {
    const body = Buffer.from([...Buffer.from("<meta charset=shift_jis> caf"), 0xe9]);
    expect(sniffCharset(body, "text/plain")).toEqual({ encoding: "windows-1252", source: "default" });
    expect(decodeBody(body, "text/plain")).toBe("<meta charset=shift_jis> café");
  });

  it("with truncated: true, tolerates a UTF-8 sequence cut at the end", () => {
    const full = Buffer.from('<meta charset="iso-8859-1"><p>日本語</p>', "utf8");
    const cut = full.subarray(0, full.indexOf(Buffer.from("</p>")) - 1);
    expect(sniffCharset(cut, "text/html").encoding).toBe("windows-1252");
    expect(sniffCharset(cut, "text/html", { truncated: true }).encoding).toBe("utf-8");
    expect(decodeBody(cut, "text/html", { truncated: true })).toBe('<meta charset="iso-8859-1"><p>日本\uFFFD');
  });
});
