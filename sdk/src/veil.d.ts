// Type declarations of the Veil browser SDK (@veil-privacy/sdk).
// This file is the public contract: src/index.ts is type-checked against it
// and the build copies it to dist/veil.d.ts unchanged.

/** A URL matcher: a substring of the absolute URL, or a regular expression. */
export type UrlMatcher = string | RegExp;

export interface VeilOptions {
  /** Browser write key (veil_wk_…). Required. */
  key: string;
  /** Base URL of the Veil server, e.g. "https://veil.example.com". Defaults to the origin the script was loaded from. */
  host?: string;

  /** Record a session replay (default true). */
  replay?: boolean;
  /** Fraction of sessions whose replay is recorded, 0..1 (default 1). Tracking calls are never sampled. */
  sampleRate?: number;
  /** "required": record and send nothing until optIn() (remembered per browser). Default "implied". */
  consent?: "implied" | "required";
  /** Honour Global Privacy Control and Do-Not-Track: record and send nothing while either is on, unless optIn() was called (default true). */
  respectDoNotTrack?: boolean;
  /** Send a page() call when init() runs (default true). */
  autoPage?: boolean;
  /** Keep the anonymous id and consent in localStorage (default true); false keeps them for this tab only. */
  persist?: boolean;

  /** Extra elements whose text and data attributes are recorded (the class veil-unmask and attribute data-veil-unmask always are). */
  unmaskSelector?: string;
  /** Extra elements to mask even inside an unmasked subtree (veil-mask / data-veil-mask always are). */
  maskSelector?: string;
  /** Extra elements to replace by a same-size placeholder (veil-block / data-veil-block always are). */
  blockSelector?: string;
  /** Inputs whose values are recorded (never password, hidden or credit-card fields). Default none. */
  unmaskInputSelector?: string;
  /** Record same-origin iframes (with the same masking) instead of blocking them (default false). */
  recordIframes?: boolean;
  /** Query parameters kept in recorded URLs, e.g. ["utm_source"] (default none; fragments are always dropped). */
  allowQueryParams?: string[];

  /** Console levels recorded (default ["error", "warn"]); false records none. Arguments are masked for PII patterns. */
  console?: false | Array<"error" | "warn" | "info" | "log" | "debug">;
  /** Network capture: true (default) records method, URL without query, status and duration of fetch/XHR; "errors" only failed ones; false none. */
  network?: boolean | "errors";
  /** URLs whose request and response bodies are recorded (masked for PII patterns, 10 KB cap). Default none. */
  networkBodyUrls?: UrlMatcher[];
  /** Header names recorded for every captured request (lower case), e.g. ["content-type"]. Default none. */
  networkHeaders?: string[];

  /** Milliseconds between uploads (default 5000). */
  flushInterval?: number;
  /** Uncompressed bytes of replay events that trigger an upload (default 256 KiB). */
  maxBatchBytes?: number;
  /** Bytes kept waiting for upload; past that the oldest uploads are dropped and counted (default 4 MiB). */
  maxQueueBytes?: number;
  /** Mouse-move sampling interval in ms (default 500). Clicks are always exact. */
  mousemoveInterval?: number;
}

export interface VeilStatus {
  /** Replay recording is running. */
  recording: boolean;
  /** Tracking and uploads are enabled (consent given, not opted out, not stopped). */
  enabled: boolean;
  /** Why the SDK is idle: "", "consent", "dnt", "opted-out", "refused", "not-initialised", "sampled-out", "config-unavailable". */
  reason: string;
  sessionId: string;
  queued: number;
  queuedBytes: number;
  /** Uploads dropped because the queue was full. */
  dropped: number;
  /** Uploads the server refused (4xx other than 408/429). */
  refusals: number;
  /** Uploads acknowledged. */
  sent: number;
  /** Failed attempts (network error, 429, 5xx) since the last success. */
  failures: number;
  /**
   * The project's server settings (GET /v1/sdk/config): "" not fetched yet
   * (idle), "pending", "server" (applied: only ever more private), "local"
   * (the server has none), "failed" (no replay on this page load).
   */
  config: string;
}

export interface VeilAPI {
  readonly version: string;
  init(options: VeilOptions): void;
  identify(userId: string, traits?: Record<string, unknown>): void;
  track(event: string, properties?: Record<string, unknown>): void;
  page(name?: string, properties?: Record<string, unknown>): void;
  /** Stop recording and sending, forget ids and queued data, and remember the choice. */
  optOut(): void;
  /** Give consent: start (or resume) recording and sending, and remember the choice. */
  optIn(): void;
  /** The current replay session id ("" before init or when disabled). */
  getSessionId(): string;
  /** Upload what is buffered now; resolves when the queue is empty or after timeoutMs (default 10000). */
  flush(timeoutMs?: number): Promise<void>;
  /** Forget the user id and anonymous id (e.g. on log-out) and start a new session. */
  reset(): void;
  /** Diagnostics. */
  status(): VeilStatus;
}

declare const veil: VeilAPI;
export default veil;
export { veil };
