// Guarded outbound HTTP: the only way the worker fetches URLs it was given
// (URL ingestion, link unfurling, WordPress sync).
//
//   const page = await guardedFetch(url, {
//     accept: ["text/html", "application/xhtml+xml"],
//     truncate: true,            // unfurl: first 2 MB of a huge page is enough
//     signal,
//   });
//   const html = decodeBody(page.body, page.headers["content-type"], { truncated: page.truncated });
//
// Failures are FetchError with a stable `code` (errors.ts). The address
// policy is in address-policy.ts, the test/internal-service exceptions in
// allow-list.ts (off by default), the decisions (documentation ranges refused,
// https→http redirects followed unless allowHttpsDowngrade: false) at the top
// of those files and guarded-fetch.ts. Configuration comes from the caller;
// nothing here reads the environment.

export {
  guardedFetch,
  systemResolver,
  DEFAULT_USER_AGENT,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  type GuardedFetchOptions,
  type FetchResult,
  type Resolver,
  type ResolvedAddress,
} from "./guarded-fetch.ts";
export { FetchError, isFetchError, type FetchErrorCode, type FetchErrorDetails } from "./errors.ts";
export { decodeBody, sniffCharset, parseContentType, type DecodeOptions, type SniffedCharset, type CharsetSource } from "./charset.ts";
export { classifyAddress, classifyHostname, isPublicAddress, canonicalAddress } from "./address-policy.ts";
export { type AllowAddressPredicate } from "./allow-list.ts";
