import { describe, expect, it } from "vitest";
import { createLocalEmbedder, emptyTextEmbedding, hashEmbed, LOCAL_MODEL } from "../../../src/ingest/embed/local.ts";
import { EmbeddingError } from "../../../src/ingest/types.ts";

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
function norm(a: Float32Array): number {
  return Math.sqrt(dot(a, a));
}

describe("local hashing embedder", () => {
  it("describes itself and defaults to 384 dimensions", () => {
    const e = createLocalEmbedder();
    expect(e.provider).toBe("local");
    expect(e.model).toBe(LOCAL_MODEL);
    expect(e.dimensions).toBe(384);
    expect(createLocalEmbedder({ dimensions: 64 }).dimensions).toBe(64);
    expect(() => createLocalEmbedder({ dimensions: 0 })).toThrow(RangeError);
  });

  it("is deterministic across calls and instances", async () => {
    const texts = ["Vector search with pgvector", "Ünïcödé façade — naïve café", "日本語のテキストも扱える"];
    const a = await createLocalEmbedder().embed(texts);
    const b = await createLocalEmbedder().embed([...texts].reverse());
    expect(a.vectors).toHaveLength(3);
    for (let i = 0; i < texts.length; i++) {
      expect(Array.from(a.vectors[i]!)).toEqual(Array.from(b.vectors[texts.length - 1 - i]!));
      expect(Array.from(a.vectors[i]!)).toEqual(Array.from(hashEmbed(texts[i]!, 384)));
    }
    // Different texts give different vectors.
    expect(dot(a.vectors[0]!, a.vectors[1]!)).toBeLessThan(0.99);
  });

  it("returns unit-length vectors of the configured size", async () => {
    const e = createLocalEmbedder({ dimensions: 256 });
    const texts = ["a", "The quick brown fox", "x ".repeat(5000), "Ω≈ç√∫ 1234 5678", "a-b_c/d"];
    const { vectors } = await e.embed(texts);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(256);
      expect(norm(v)).toBeCloseTo(1, 5);
      expect(v.every((x) => Number.isFinite(x))).toBe(true);
    }
  });

  it("normalises case and compatibility characters (NFKC + lowercase)", () => {
    expect(Array.from(hashEmbed("ＰＧＶＥＣＴＯＲ Index", 128))).toEqual(Array.from(hashEmbed("pgvector index", 128)));
    expect(Array.from(hashEmbed("ﬁle", 128))).toEqual(Array.from(hashEmbed("file", 128)));
  });

  it("puts lexically similar texts closer than unrelated ones", () => {
    const d = 384;
    // [text, lexically related text, unrelated text]
    const triples: [string, string, string][] = [
      ["How do I reset my account password?", "Resetting the password of your account", "Quarterly revenue grew twelve percent in Europe"],
      ["PostgreSQL stores the vectors in a pgvector column", "the pgvector column of PostgreSQL holds vectors", "Bake the bread for forty minutes at high heat"],
      ["The worker retries requests after rate limit errors", "rate limit errors make the worker retry its requests", "Migratory birds fly south when autumn arrives"],
      ["Upload a PDF and the text is extracted page by page", "text extraction of an uploaded PDF works page by page", "The orchestra tuned their violins before the concert"],
    ];
    let gap = 0;
    for (const [q, related, unrelated] of triples) {
      const vq = hashEmbed(q, d);
      const r = dot(vq, hashEmbed(related, d));
      const u = dot(vq, hashEmbed(unrelated, d));
      expect(r).toBeGreaterThan(u + 0.1);
      gap += (r - u) / triples.length;
    }
    expect(gap).toBeGreaterThan(0.25);

    // Char n-grams: inflected forms overlap although no whole word is shared.
    const a = hashEmbed("embeddings", d);
    const b = hashEmbed("embedding", d);
    const c = hashEmbed("warehouse", d);
    expect(dot(a, b)).toBeGreaterThan(0.5);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c) + 0.3);

    // Word order matters a little (bigrams), but not much.
    const ab = hashEmbed("vector database index", d);
    const ba = hashEmbed("index database vector", d);
    expect(dot(ab, ba)).toBeLessThan(0.999);
    expect(dot(ab, ba)).toBeGreaterThan(0.6);
  });

  it("gives empty and word-less text a fixed unit vector, not zeros", async () => {
    const e = createLocalEmbedder({ dimensions: 384 });
    const { vectors } = await e.embed(["", "   ", "!!! ... ???", "real words here"]);
    const [empty, blank, punct, real] = vectors as [Float32Array, Float32Array, Float32Array, Float32Array];
    expect(norm(empty)).toBeCloseTo(1, 5);
    expect(Array.from(blank)).toEqual(Array.from(empty));
    expect(Array.from(punct)).toEqual(Array.from(empty));
    expect(Array.from(empty)).toEqual(Array.from(emptyTextEmbedding(384)));
    // Nearly orthogonal to real text: ranks last rather than poisoning results.
    expect(Math.abs(dot(empty, real))).toBeLessThan(0.3);
    // Callers may mutate the returned vector without corrupting the shared one.
    empty[0] = 42;
    expect(emptyTextEmbedding(384)[0]).not.toBe(42);
  });

  it("reports tokens as the sum of countTokens and zero requests", async () => {
    const e = createLocalEmbedder();
    const texts = ["hello world", "a somewhat longer sentence about embeddings and retrieval", ""];
    const r = await e.embed(texts);
    const expected = texts.reduce((s, t) => s + e.countTokens(t), 0);
    expect(e.countTokens("hello world")).toBe(2); // cl100k_base
    expect(r.tokens).toBe(expected);
    expect(r.tokens).toBeGreaterThan(5);
    expect(r.requests).toBe(0);
  });

  it("honours an aborted signal", async () => {
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    const err = await createLocalEmbedder().embed(["a"], { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingError);
    expect((err as EmbeddingError).kind).toBe("aborted");
  });

  it("is fast (speed printed, not asserted)", async () => {
    const words = "retrieval augmented generation stores document chunks as vectors in postgres with pgvector and searches them by cosine distance".split(" ");
    let seed = 7;
    const parts: string[] = [];
    let size = 0;
    while (size < 2_000_000) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const w = words[seed % words.length]!;
      parts.push(w);
      size += w.length + 1;
    }
    const text = parts.join(" ");
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 2000) chunks.push(text.slice(i, i + 2000));
    const hashOnly = performance.now();
    for (const c of chunks) hashEmbed(c, 384);
    const hashMs = performance.now() - hashOnly;
    const fast = createLocalEmbedder({ tokenizer: "estimate" });
    const t1 = performance.now();
    await fast.embed(chunks);
    const estMs = performance.now() - t1;
    const exact = createLocalEmbedder();
    const t2 = performance.now();
    const r = await exact.embed(chunks);
    const exactMs = performance.now() - t2;
    const mb = text.length / 1e6;
    console.log(
      `local embedder on ${mb.toFixed(1)} MB: hashing ${(mb / (hashMs / 1000)).toFixed(1)} MB/s; ` +
        `embed() with estimate tokens ${(mb / (estMs / 1000)).toFixed(1)} MB/s; with cl100k_base ${(mb / (exactMs / 1000)).toFixed(1)} MB/s`,
    );
    expect(r.vectors).toHaveLength(chunks.length);
  });
});
