// The cache key of a link: the same page pasted with different tracking parameters,
// fragments or host case is one preview.
const TRACKING = /^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|_gl|ref_src|si|spm|vero_id|oly_anon_id|oly_enc_id)$/i;

export class InvalidLinkError extends Error {
  override name = "InvalidLinkError";
}

/** Parses and normalises a pasted link; throws InvalidLinkError for anything but http(s). */
export function normalizeLink(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new InvalidLinkError(`not a URL: ${raw.slice(0, 200)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidLinkError(`not an http(s) link: ${url.protocol}`);
  url.hash = "";
  url.hostname = url.hostname.replace(/\.$/, "");
  for (const key of [...url.searchParams.keys()]) if (TRACKING.test(key)) url.searchParams.delete(key);
  url.searchParams.sort();
  return url;
}

export function cacheKey(raw: string): string {
  return normalizeLink(raw).href;
}
