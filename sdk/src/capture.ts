// Console and network capture. Both wrap page globals; a wrapper always
// calls the original first and never lets an SDK exception reach the page.

import { maskPII, sanitizeURL, type URLPolicy } from "./mask";

export type Emit = (plugin: string, payload: unknown) => void;

const MAX_ARG = 2000;
const MAX_BODY = 10240;

function stringify(v: unknown): string {
  try {
    if (typeof v === "string") return v;
    if (v instanceof Error) return v.name + ": " + v.message;
    if (v === undefined) return "undefined";
    if (typeof v === "function") return "[function]";
    if (typeof Node !== "undefined" && v instanceof Node) return "[" + v.nodeName.toLowerCase() + "]";
    const seen: unknown[] = [];
    const s = JSON.stringify(v, (_k, x) => {
      if (typeof x === "object" && x !== null) {
        if (seen.indexOf(x) >= 0) return "[circular]";
        seen.push(x);
      }
      return x;
    });
    return s === undefined ? String(v) : s;
  } catch (_) {
    return "[unserializable]";
  }
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) + "…" : s;
}

/** Masked console arguments, in rrweb's console plugin shape. */
export function consolePayload(level: string, args: unknown[]): unknown {
  const payload: string[] = [];
  for (let i = 0; i < args.length && i < 10; i++) payload.push(JSON.stringify(clip(maskPII(stringify(args[i])), MAX_ARG)));
  return { level, trace: [], payload };
}

export function captureConsole(levels: string[], emit: Emit): () => void {
  const c = window.console as unknown as Record<string, (...a: unknown[]) => void>;
  const restore: Array<() => void> = [];
  let busy = false;
  for (const level of levels) {
    const orig = c[level];
    if (typeof orig !== "function") continue;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      if (!busy) {
        busy = true;
        try {
          emit("rrweb/console@1", consolePayload(level, args));
        } catch (_) {
          /* never break console */
        }
        busy = false;
      }
      return orig.apply(this, args);
    };
    c[level] = wrapped;
    restore.push(() => {
      if (c[level] === wrapped) c[level] = orig;
    });
  }
  if (levels.indexOf("error") >= 0) {
    const onError = (ev: ErrorEvent) => {
      try {
        emit("rrweb/console@1", consolePayload("error", ["Uncaught " + (ev.error ? stringify(ev.error) : String(ev.message))]));
      } catch (_) {
        /* ignore */
      }
    };
    const onRejection = (ev: PromiseRejectionEvent) => {
      try {
        emit("rrweb/console@1", consolePayload("error", ["Unhandled rejection: " + stringify(ev.reason)]));
      } catch (_) {
        /* ignore */
      }
    };
    window.addEventListener("error", onError);
    window.addEventListener("unhandledrejection", onRejection);
    restore.push(() => {
      window.removeEventListener("error", onError);
      window.removeEventListener("unhandledrejection", onRejection);
    });
  }
  return () => restore.forEach((f) => f());
}

export interface NetworkOptions {
  mode: true | "errors";
  bodyUrls: Array<string | RegExp>;
  headers: string[];
  url: URLPolicy;
  /** Requests to this prefix (the Veil host) are never recorded. */
  skipPrefix: string;
}

interface NetRecord {
  type: "fetch" | "xhr";
  method: string;
  url: string;
  status: number;
  duration: number;
  requestHeaders?: Record<string, string>;
  responseHeaders?: Record<string, string>;
  requestBody?: string;
  responseBody?: string;
}

function absolute(u: string): string {
  try {
    return new URL(u, location.href).href;
  } catch (_) {
    return String(u);
  }
}

function matches(url: string, list: Array<string | RegExp>): boolean {
  for (const m of list) {
    if (typeof m === "string" ? url.indexOf(m) >= 0 : m.test(url)) return true;
  }
  return false;
}

function bodyText(b: unknown): string | undefined {
  if (typeof b === "string") return b;
  if (typeof URLSearchParams !== "undefined" && b instanceof URLSearchParams) return b.toString();
  return b === undefined || b === null ? undefined : "[binary]";
}

export function captureNetwork(o: NetworkOptions, emit: Emit): () => void {
  const restore: Array<() => void> = [];
  const wanted = (h: string) => o.headers.indexOf(h.toLowerCase()) >= 0;
  const finish = (r: NetRecord, absUrl: string, reqBody: unknown, resBody: () => Promise<string | undefined>) => {
    if (o.mode === "errors" && r.status > 0 && r.status < 400) return;
    const send = () => {
      try {
        emit("veil/network@1", r);
      } catch (_) {
        /* ignore */
      }
    };
    if (o.bodyUrls.length && matches(absUrl, o.bodyUrls)) {
      const rb = bodyText(reqBody);
      if (rb !== undefined) r.requestBody = clip(maskPII(rb), MAX_BODY);
      resBody().then(
        (t) => {
          if (t !== undefined) r.responseBody = clip(maskPII(t), MAX_BODY);
          send();
        },
        send,
      );
    } else send();
  };

  const origFetch = window.fetch;
  if (typeof origFetch === "function") {
    const wrapped = function (this: unknown, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const p = origFetch.apply(this, [input, init] as [RequestInfo, RequestInit]);
      try {
        const start = Date.now();
        const rawUrl = typeof input === "string" ? input : input instanceof URL ? input.href : (input as Request).url;
        const abs = absolute(rawUrl);
        if (abs.indexOf(o.skipPrefix) === 0) return p;
        const method = String((init && init.method) || (typeof input === "object" && (input as Request).method) || "GET").toUpperCase();
        const r: NetRecord = { type: "fetch", method, url: sanitizeURL(abs, o.url), status: 0, duration: 0 };
        if (o.headers.length && init && init.headers) {
          const h: Record<string, string> = {};
          new Headers(init.headers).forEach((v, k) => {
            if (wanted(k)) h[k] = maskPII(v);
          });
          r.requestHeaders = h;
        }
        p.then(
          (res) => {
            try {
              r.status = res.status;
              r.duration = Date.now() - start;
              if (o.headers.length) {
                const h: Record<string, string> = {};
                res.headers.forEach((v, k) => {
                  if (wanted(k)) h[k] = maskPII(v);
                });
                r.responseHeaders = h;
              }
              finish(r, abs, init && init.body, () => res.clone().text());
            } catch (_) {
              /* ignore */
            }
          },
          () => {
            r.duration = Date.now() - start;
            finish(r, abs, undefined, () => Promise.resolve(undefined));
          },
        );
      } catch (_) {
        /* never break fetch */
      }
      return p;
    };
    window.fetch = wrapped as typeof window.fetch;
    restore.push(() => {
      if (window.fetch === wrapped) window.fetch = origFetch;
    });
  }

  const X = window.XMLHttpRequest;
  if (typeof X === "function") {
    const proto = X.prototype;
    const oOpen = proto.open;
    const oSend = proto.send;
    const oSet = proto.setRequestHeader;
    type Meta = { m: string; u: string; h: Record<string, string> };
    const meta = new WeakMap<XMLHttpRequest, Meta>();
    proto.open = function (this: XMLHttpRequest, method: string, url: string | URL) {
      try {
        meta.set(this, { m: String(method).toUpperCase(), u: absolute(String(url)), h: {} });
      } catch (_) {
        /* ignore */
      }
      // eslint-disable-next-line prefer-rest-params
      return (oOpen as (...a: unknown[]) => void).apply(this, arguments as unknown as unknown[]);
    } as typeof proto.open;
    proto.setRequestHeader = function (this: XMLHttpRequest, k: string, v: string) {
      try {
        const m = meta.get(this);
        if (m && wanted(k)) m.h[k.toLowerCase()] = maskPII(String(v));
      } catch (_) {
        /* ignore */
      }
      return oSet.call(this, k, v);
    };
    proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
      try {
        const m = meta.get(this);
        if (m && m.u.indexOf(o.skipPrefix) !== 0) {
          const start = Date.now();
          const xhr = this;
          const r: NetRecord = { type: "xhr", method: m.m, url: sanitizeURL(m.u, o.url), status: 0, duration: 0 };
          if (o.headers.length) r.requestHeaders = m.h;
          xhr.addEventListener("loadend", () => {
            try {
              r.status = xhr.status;
              r.duration = Date.now() - start;
              if (o.headers.length) {
                const h: Record<string, string> = {};
                for (const line of xhr.getAllResponseHeaders().split(/\r?\n/)) {
                  const i = line.indexOf(":");
                  if (i > 0 && wanted(line.slice(0, i).trim())) h[line.slice(0, i).trim().toLowerCase()] = maskPII(line.slice(i + 1).trim());
                }
                r.responseHeaders = h;
              }
              finish(r, m.u, body, () =>
                Promise.resolve(xhr.responseType === "" || xhr.responseType === "text" ? xhr.responseText : undefined),
              );
            } catch (_) {
              /* ignore */
            }
          });
        }
      } catch (_) {
        /* ignore */
      }
      return oSend.call(this, body);
    };
    restore.push(() => {
      proto.open = oOpen;
      proto.send = oSend;
      proto.setRequestHeader = oSet;
    });
  }
  return () => restore.forEach((f) => f());
}
