// The one error type of the guarded HTTP client. Callers branch on `code`,
// which is stable; `message` is for humans and logs.

export type FetchErrorCode =
  /** The URL (or a redirect target) resolves to / names an address we refuse to contact. */
  | "blocked_address"
  /** Not http: or https: (also: an https→http redirect when downgrades are disabled). */
  | "unsupported_scheme"
  /** More redirects than allowed, or a redirect loop. */
  | "too_many_redirects"
  /** Connect timeout, total deadline, or an AbortSignal.timeout() firing. */
  | "timeout"
  /** Body (raw or decompressed) larger than the cap and truncation not requested. */
  | "too_large"
  /** The final response's Content-Type is not in the caller's accepted list. */
  | "unsupported_content_type"
  /** The final response is not 2xx. */
  | "http_status"
  /** Name did not resolve (NXDOMAIN, SERVFAIL, empty answer...). */
  | "dns_failure"
  /** TCP/TLS connection failed or the connection broke mid-response. */
  | "connection_failed"
  /** Not a parseable absolute URL, or it carries credentials. */
  | "invalid_url"
  /** Malformed response: corrupt compressed body, unknown content-encoding, bad Location... */
  | "invalid_response"
  /** The caller's AbortSignal fired (with a reason other than a timeout). */
  | "aborted";

export interface FetchErrorDetails {
  /** The URL being fetched when the error happened (the last hop for redirects). */
  url?: string;
  /** HTTP status of the response that caused the error, when there was one. */
  status?: number;
  /** MIME essence of the response (lower case, no parameters), when known. */
  contentType?: string;
  /** URLs that answered with a redirect before the error, in order. */
  redirects?: string[];
  cause?: unknown;
}

export class FetchError extends Error {
  override name = "FetchError";
  readonly code: FetchErrorCode;
  readonly url: string | undefined;
  readonly status: number | undefined;
  readonly contentType: string | undefined;
  redirects: string[];

  constructor(code: FetchErrorCode, message: string, details: FetchErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.url = details.url;
    this.status = details.status;
    this.contentType = details.contentType;
    this.redirects = details.redirects ?? [];
  }

  /** Transient failures are worth retrying later; the rest will fail the same way again. */
  get transient(): boolean {
    if (this.code === "timeout" || this.code === "dns_failure" || this.code === "connection_failed") return true;
    if (this.code === "http_status" && this.status !== undefined) {
      return this.status === 408 || this.status === 425 || this.status === 429 || this.status >= 500;
    }
    return false;
  }
}

export function isFetchError(err: unknown): err is FetchError {
  return err instanceof FetchError;
}
