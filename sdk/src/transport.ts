// Upload queue: bounded, ordered, retried with exponential backoff and
// jitter, gzip through CompressionStream, keepalive/sendBeacon when the
// page goes away.

export interface Upload {
  url: string;
  body: string;
  /** Content type for the request; gzip is added when compression pays. */
  gzip: boolean;
  attempts: number;
}

export interface TransportOptions {
  maxQueueBytes: number;
  /** Called once when the server refused too often: the SDK stops. */
  onRefused: () => void;
  /** Called after uploads were dropped and then the queue drained: resync the replay. */
  onRecovered: () => void;
}

const BASE_DELAY = 1000;
const MAX_DELAY = 60000;
const MAX_REFUSALS = 5; // consecutive 4xx (not 408/429): wrong key, origin, shape
const MAX_FAILURES = 20; // consecutive failures of any kind (opaque CORS refusals look like network errors)
const KEEPALIVE_MAX = 60000; // browsers cap keepalive bodies at 64 KiB in flight

declare const CompressionStream: { new (format: string): TransformStream<Uint8Array, Uint8Array> } | undefined;

async function gzip(s: string): Promise<Uint8Array | null> {
  if (typeof CompressionStream === "undefined" || typeof Response === "undefined" || typeof Blob === "undefined") return null;
  try {
    const stream = new Blob([s]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (_) {
    return null;
  }
}

function byteLen(s: string): number {
  // UTF-16 length is a close-enough upper-bound proxy for queue accounting on mostly-ASCII JSON.
  return s.length;
}

export class Transport {
  private q: Upload[] = [];
  private bytes = 0;
  private inflight = false;
  private timer: ReturnType<typeof setTimeout> | 0 = 0;
  private waiters: Array<() => void> = [];
  private needResync = false;
  stopped = false;
  dropped = 0;
  refusals = 0;
  consecutiveRefusals = 0;
  failures = 0;
  sent = 0;
  private nextAt = 0;

  constructor(private o: TransportOptions) {}

  queued(): number {
    return this.q.length;
  }
  queuedBytes(): number {
    return this.bytes;
  }

  /** Queue an upload, dropping the oldest ones past the byte budget. */
  push(u: Upload): void {
    if (this.stopped) return;
    const n = byteLen(u.body);
    this.q.push(u);
    this.bytes += n;
    while (this.bytes > this.o.maxQueueBytes && this.q.length > 1) {
      const old = this.q.shift() as Upload;
      this.bytes -= byteLen(old.body);
      this.dropped++;
      this.needResync = true;
    }
    if (this.bytes > this.o.maxQueueBytes) {
      // A single upload over budget: never kept.
      this.q.length = 0;
      this.bytes = 0;
      this.dropped++;
      this.needResync = true;
    }
    this.pump();
  }

  /** Forget everything queued (opt-out). */
  clear(): void {
    this.q.length = 0;
    this.bytes = 0;
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = 0;
  }

  /** Resolves when the queue is empty, the SDK stops, or after ms. */
  drained(ms: number): Promise<void> {
    if (!this.q.length && !this.inflight) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
      // An explicit flush skips a pending backoff once.
      if (!this.inflight && this.timer) {
        clearTimeout(this.timer);
        this.timer = 0;
        this.nextAt = 0;
        this.pump();
      }
    });
  }

  private wake(): void {
    if (this.q.length || this.inflight) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  pump(): void {
    if (this.inflight || this.stopped || !this.q.length || this.timer) return;
    const wait = this.nextAt - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.pump();
      }, wait);
      return;
    }
    const u = this.q[0];
    this.inflight = true;
    this.send(u).then(
      (status) => this.done(u, status),
      () => this.done(u, 0),
    );
  }

  private async send(u: Upload): Promise<number> {
    let body: BodyInit = u.body;
    const headers: Record<string, string> = { "Content-Type": "text/plain;charset=UTF-8" };
    if (u.gzip && u.body.length > 1024) {
      const z = await gzip(u.body);
      if (z) {
        body = z as unknown as BodyInit;
        headers["Content-Type"] = "application/json";
        headers["Content-Encoding"] = "gzip";
      }
    }
    const res = await fetch(u.url, {
      method: "POST",
      body,
      headers,
      credentials: "omit",
      mode: "cors",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      keepalive: u.body.length < KEEPALIVE_MAX,
    } as RequestInit);
    if (res.status === 429 || res.status === 503) {
      const ra = Number(res.headers.get("Retry-After"));
      if (ra > 0) this.nextAt = Date.now() + Math.min(ra * 1000, 10 * MAX_DELAY);
    }
    return res.status;
  }

  private done(u: Upload, status: number): void {
    this.inflight = false;
    if (this.q[0] !== u) {
      // cleared meanwhile
    } else if (status >= 200 && status < 300) {
      this.take();
      this.sent++;
      this.failures = 0;
      this.consecutiveRefusals = 0;
      this.nextAt = 0;
      if (this.needResync && !this.q.length) {
        this.needResync = false;
        this.o.onRecovered();
      }
    } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      // Refused: retrying the same bytes cannot help.
      this.take();
      this.refusals++;
      this.consecutiveRefusals++;
      if (this.consecutiveRefusals >= MAX_REFUSALS) {
        this.stop();
        this.o.onRefused();
      }
    } else {
      u.attempts++;
      this.failures++;
      const exp = Math.min(MAX_DELAY, BASE_DELAY * Math.pow(2, Math.min(u.attempts, 16)));
      const delay = exp / 2 + Math.random() * (exp / 2); // "equal jitter"
      this.nextAt = Math.max(this.nextAt, Date.now() + delay);
      if (this.failures >= MAX_FAILURES) {
        this.stop();
        this.o.onRefused();
      }
    }
    this.wake();
    this.pump();
  }

  private take(): void {
    const u = this.q.shift();
    if (u) this.bytes -= byteLen(u.body);
  }

  /**
   * The page is going away: hand everything queued to the browser with
   * keepalive fetch or sendBeacon (uncompressed: there is no time for
   * async work). Items sent here are removed from the queue.
   */
  unload(): void {
    if (this.stopped) return;
    let budget = KEEPALIVE_MAX;
    const rest: Upload[] = [];
    // The upload in flight (if any) is sent again: it may still be waiting
    // for gzip, and the server stores each (session, seq) and messageId once.
    for (const u of this.q) {
      let ok = false;
      if (u.body.length <= budget) {
        try {
          if (typeof navigator !== "undefined" && navigator.sendBeacon) {
            ok = navigator.sendBeacon(u.url, new Blob([u.body], { type: "text/plain;charset=UTF-8" }));
          }
        } catch (_) {
          ok = false;
        }
        if (!ok) {
          try {
            fetch(u.url, { method: "POST", body: u.body, keepalive: true, credentials: "omit", mode: "cors", headers: { "Content-Type": "text/plain;charset=UTF-8" } }).catch(() => {});
            ok = true;
          } catch (_) {
            ok = false;
          }
        }
      }
      if (ok) budget -= u.body.length;
      else rest.push(u);
    }
    this.q = rest;
    this.bytes = rest.reduce((n, u) => n + byteLen(u.body), 0);
  }
}
