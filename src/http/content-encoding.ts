// Streaming decoders for Content-Encoding. All of them honour backpressure,
// so a compression bomb only ever inflates as far as the reader pulls: the
// size cap in the body reader stops it after maxBytes of output.

import { Duplex, type Transform } from "node:stream";
import zlib from "node:zlib";

/** Sent as Accept-Encoding. zstd is decoded when a server sends it anyway. */
export const ACCEPT_ENCODING = "gzip, deflate, br";

const SUPPORTED = new Set(["gzip", "x-gzip", "deflate", "br", "zstd"]);

/**
 * The codings of a Content-Encoding header in the order they were applied,
 * without "identity". Returns null when one of them is not supported.
 */
export function parseContentEncoding(header: string | undefined): string[] | null {
  if (header === undefined) return [];
  const codings = header
    .split(",")
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== "" && part !== "identity");
  return codings.every((coding) => SUPPORTED.has(coding)) ? codings : null;
}

/** A decoder stream for one coding (must be one parseContentEncoding accepted). */
export function createDecoder(coding: string): Duplex | Transform {
  switch (coding) {
    case "gzip":
    case "x-gzip":
      // Lenient about a cut-off final block (yields what decoded), as browsers are.
      return zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case "deflate":
      return new AutoInflate();
    case "br":
      return zlib.createBrotliDecompress();
    case "zstd":
      return zlib.createZstdDecompress();
    default:
      throw new TypeError(`unsupported content-encoding ${coding}`);
  }
}

/**
 * "deflate" is supposed to be zlib-wrapped (RFC 1950) but some servers send
 * raw deflate (RFC 1951). Picks the right inflater from the first bytes and
 * passes data through with backpressure intact.
 */
class AutoInflate extends Duplex {
  private inner: zlib.Inflate | zlib.InflateRaw | null = null;

  private start(first: Buffer): zlib.Inflate | zlib.InflateRaw {
    const b0 = first[0] ?? 0;
    const b1 = first[1];
    const zlibHeader = (b0 & 0x0f) === 8 && b0 >> 4 <= 7 && (b1 === undefined || ((b0 << 8) | b1) % 31 === 0);
    const inner = zlibHeader ? zlib.createInflate() : zlib.createInflateRaw();
    inner.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) inner.pause();
    });
    inner.on("end", () => this.push(null));
    inner.on("error", (err) => this.destroy(err));
    this.inner = inner;
    return inner;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const inner = this.inner ?? this.start(chunk);
    if (inner.write(chunk)) callback();
    else inner.once("drain", () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.inner === null) this.push(null);
    else this.inner.end();
    callback();
  }

  override _read(): void {
    this.inner?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner?.destroy();
    callback(error);
  }
}
