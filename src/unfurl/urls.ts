// URL helpers for preview fields: resolution against <base href> / the final URL, and
// the http(s)-only rule.

/**
 * Resolves `value` against `base`; returns the absolute href only for http(s) results.
 * javascript:, data:, blob:, mailto:... and unparsable values give null. Leading/trailing
 * whitespace and embedded tabs/newlines are removed first, as browsers do.
 */
export function resolveHttpUrl(value: string | null | undefined, base: string | URL): string | null {
  if (value === null || value === undefined) return null;
  const cleaned = value.replace(/[\t\n\r]/g, "").trim();
  if (cleaned === "" || cleaned === "#") return null;
  const url = URL.parse(cleaned, typeof base === "string" ? base : base.href);
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") return null;
  return url.href;
}

/** `${origin}/favicon.ico` of an http(s) URL. */
export function defaultFavicon(pageUrl: URL): string {
  return `${pageUrl.origin}/favicon.ico`;
}
