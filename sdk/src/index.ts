// Veil browser SDK: private-by-default session replay on rrweb plus
// Segment-compatible tracking. Every entry point is guarded: no exception
// escapes into the host page.

import { record } from "@rrweb/record";
import type { VeilAPI, VeilOptions, VeilStatus } from "./veil";
import { captureConsole, captureNetwork } from "./capture";
import { maskText, sanitizeURL, type URLPolicy } from "./mask";
import { CONFIG_TIMEOUT, fetchConfig, type ServerConfig } from "./remote";
import { sanitizeEvent, type Policy } from "./sanitize";
import { getItem, Session, setItem, uuid } from "./session";
import { Transport } from "./transport";

declare const __VEIL_VERSION__: string;
const VERSION = __VEIL_VERSION__;
const LIB = "@veil-privacy/sdk";

const BLOCK = "img,picture,video,audio,canvas,iframe,frame,object,embed,svg image,input[type=image],.veil-block,[data-veil-block]";
const UNMASK = ".veil-unmask,[data-veil-unmask]";
const MASK = ".veil-mask,[data-veil-mask]";

interface Config {
  key: string;
  host: string;
  replay: boolean;
  sampleRate: number;
  consent: "implied" | "required";
  respectDoNotTrack: boolean;
  autoPage: boolean;
  persist: boolean;
  unmask: string;
  mask: string;
  block: string;
  blockExtra: string;
  unmaskInput: string;
  recordIframes: boolean;
  url: URLPolicy;
  console: string[];
  network: false | true | "errors";
  networkBodyUrls: Array<string | RegExp>;
  networkHeaders: string[];
  flushInterval: number;
  maxBatchBytes: number;
  maxQueueBytes: number;
  mousemove: number;
}

let cfg: Config | null = null;
let enabled = false;
let reason = "not-initialised";
let transport: Transport | null = null;
let session: Session | null = null;
let stopRecord: (() => void) | null = null;
let stopCaptures: Array<() => void> = [];
let buf: string[] = [];
let bufBytes = 0;
let trackBuf: string[] = [];
let trackTimer: ReturnType<typeof setTimeout> | 0 = 0;
let flushTimer: ReturnType<typeof setInterval> | 0 = 0;
let listening = false;
let anonymousId = "";
let userId = "";
let paged = false;
let internalErrors = 0;
/** Server config: "" not asked yet, "pending", "server" (applied), "local" (no endpoint: 404), "failed". */
let remote = "";

/** Wraps f so that no exception escapes; returns fallback instead. */
function guard<A extends unknown[], R>(f: (...a: A) => R, fallback?: R): (...a: A) => R {
  return function (this: unknown, ...a: A): R {
    try {
      return f.apply(this, a);
    } catch (_) {
      internalErrors++;
      return fallback as R;
    }
  };
}

function str(v: unknown, d: string): string {
  return typeof v === "string" ? v : d;
}
function num(v: unknown, d: number, min: number, max: number): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : NaN;
  return n >= min && n <= max ? n : d;
}
function bool(v: unknown, d: boolean): boolean {
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "") return true;
  if (v === "false") return false;
  return d;
}
function join(a: string, b: unknown): string {
  return typeof b === "string" && b.trim() ? a + "," + b : a;
}

function configure(o: VeilOptions): Config {
  let host = str(o.host, "").replace(/\/+$/, "");
  if (!host) host = scriptOrigin || location.origin;
  const c = o.console;
  return {
    key: String(o.key),
    host,
    replay: bool(o.replay, true),
    sampleRate: num(o.sampleRate, 1, 0, 1),
    consent: o.consent === "required" ? "required" : "implied",
    respectDoNotTrack: bool(o.respectDoNotTrack, true),
    autoPage: bool(o.autoPage, true),
    persist: bool(o.persist, true),
    unmask: join(UNMASK, o.unmaskSelector),
    mask: join(MASK, o.maskSelector),
    block: (bool(o.recordIframes, false) ? BLOCK.replace("iframe,frame,", "") : BLOCK) + (o.blockSelector ? "," + o.blockSelector : ""),
    blockExtra: o.blockSelector ? "," + o.blockSelector : "",
    unmaskInput: str(o.unmaskInputSelector, ""),
    recordIframes: bool(o.recordIframes, false),
    url: { allowParams: Array.isArray(o.allowQueryParams) ? o.allowQueryParams.map(String) : [] },
    console: c === false ? [] : Array.isArray(c) ? c.map(String) : ["error", "warn"],
    network: o.network === false ? false : o.network === "errors" ? "errors" : true,
    networkBodyUrls: Array.isArray(o.networkBodyUrls) ? o.networkBodyUrls : [],
    networkHeaders: Array.isArray(o.networkHeaders) ? o.networkHeaders.map((h) => String(h).toLowerCase()) : [],
    flushInterval: num(o.flushInterval, 5000, 250, 600000),
    maxBatchBytes: num(o.maxBatchBytes, 256 * 1024, 1024, 3 * 1024 * 1024),
    maxQueueBytes: num(o.maxQueueBytes, 4 * 1024 * 1024, 16 * 1024, 64 * 1024 * 1024),
    mousemove: num(o.mousemoveInterval, 500, 50, 60000),
  };
}

/**
 * applyServerConfig makes c at least as private as the project's server
 * settings: for each setting the more private of the page's option and the
 * server's value wins, and a missing or malformed server value counts as
 * the most private one. The server can never make the SDK less private
 * than the page's own options (docs/sdk.md, "Server settings").
 */
function applyServerConfig(c: Config, s: ServerConfig): void {
  if (s.replay !== true) c.replay = false;
  const rate = typeof s.sample_rate === "number" && s.sample_rate >= 0 && s.sample_rate <= 1 ? s.sample_rate : 0;
  c.sampleRate = Math.min(c.sampleRate, rate);
  if (s.mask_all_text !== false) c.unmask = "";
  if (s.mask_all_inputs !== false) c.unmaskInput = "";
  if (s.block_media !== false) {
    c.recordIframes = false;
    c.block = BLOCK + c.blockExtra;
  }
  if (s.console === "errors") c.console = c.console.filter((l) => l === "error");
  else if (s.console !== "page") c.console = [];
  if (s.network === "errors") c.network = c.network ? "errors" : false;
  else if (s.network !== "page") c.network = false;
  if (s.network_details !== true) {
    c.networkBodyUrls = [];
    c.networkHeaders = [];
  }
  if (s.query_params !== true) c.url = { allowParams: [] };
}

/** Fetches and applies the server config once, then starts recording. */
function loadRemote(): void {
  if (remote || !cfg) return;
  remote = "pending";
  const c = cfg;
  fetchConfig(c.host, c.key, CONFIG_TIMEOUT).then(
    guard((s: ServerConfig | null) => {
      if (s) applyServerConfig(c, s);
      remote = s ? "server" : "local";
      if (session) session.setRate(c.sampleRate);
      if (enabled && c.replay) startRecording();
    }),
    guard(() => {
      // Fail closed: without the project's settings, no replay on this
      // page load; tracking continues, URLs without query parameters.
      remote = "failed";
      c.replay = false;
      c.url = { allowParams: [] };
    }),
  );
}

// ---- privacy decisions -------------------------------------------------

/** el.closest(sel), continued across open shadow roots and same-origin frames. */
function matchUp(el: Element | null, sel: string): boolean {
  let n: Element | null = el;
  for (let hops = 0; n && hops < 32; hops++) {
    if (n.closest(sel)) return true;
    const root = n.getRootNode ? n.getRootNode() : null;
    if (root && (root as ShadowRoot).host) n = (root as ShadowRoot).host;
    else {
      try {
        const doc = n.ownerDocument;
        n = doc && doc.defaultView ? (doc.defaultView.frameElement as Element | null) : null;
      } catch (_) {
        n = null;
      }
    }
  }
  return false;
}

function isUnmasked(el: Element | null): boolean {
  if (!cfg || !cfg.unmask || !el || !el.closest) return false;
  try {
    return matchUp(el, cfg.unmask) && !matchUp(el, cfg.mask);
  } catch (_) {
    return false;
  }
}

function isInputUnmasked(el: Element | null): boolean {
  if (!cfg || !cfg.unmaskInput || !el || !el.matches) return false;
  try {
    const type = String((el as HTMLInputElement).type || "").toLowerCase();
    const ac = String(el.getAttribute("autocomplete") || "").toLowerCase();
    if (type === "password" || type === "hidden" || ac.indexOf("cc-") >= 0 || ac.indexOf("password") >= 0) return false;
    return el.matches(cfg.unmaskInput) && !matchUp(el, cfg.mask);
  } catch (_) {
    return false;
  }
}

const policy: Policy = {
  get url() {
    // Until the server config is known, URLs keep no query parameter.
    return cfg && remote !== "pending" && remote !== "" ? cfg.url : { allowParams: [] };
  },
  unmasked: isUnmasked,
  inputUnmasked: isInputUnmasked,
  foreign: (n: Node | null) => {
    if (!cfg || cfg.recordIframes || !n) return false;
    const doc = n.nodeType === 9 ? (n as Document) : n.ownerDocument;
    return !!doc && doc !== document;
  },
  node: (id: number) => {
    try {
      return record.mirror.getNode(id) as Node | null;
    } catch (_) {
      return null;
    }
  },
};

function dntOn(): boolean {
  try {
    const n = navigator as Navigator & { globalPrivacyControl?: boolean; msDoNotTrack?: string };
    const w = window as Window & { doNotTrack?: string };
    if (n.globalPrivacyControl === true) return true;
    const d = n.doNotTrack || w.doNotTrack || n.msDoNotTrack;
    return d === "1" || d === "yes";
  } catch (_) {
    return false;
  }
}

function storeKind(): "local" | "session" {
  return cfg && !cfg.persist ? "session" : "local";
}

/** Why the SDK must stay idle now, or "". */
function blocker(): string {
  if (!cfg) return "not-initialised";
  if (transport && transport.stopped) return "refused";
  const consent = getItem(storeKind(), "veil_consent");
  if (consent === "denied") return "opted-out";
  if (consent === "granted") return "";
  if (cfg.consent === "required") return "consent";
  if (cfg.respectDoNotTrack && dntOn()) return "dnt";
  return "";
}

// ---- lifecycle -----------------------------------------------------------

function start(): void {
  const why = blocker();
  reason = why;
  if (why || enabled || !cfg) return;
  enabled = true;
  const k = storeKind();
  anonymousId = getItem(k, "veil_aid") || "";
  if (!anonymousId) {
    anonymousId = uuid();
    setItem(k, "veil_aid", anonymousId);
  }
  userId = getItem(k, "veil_uid") || "";
  if (!listening) {
    listening = true;
    window.addEventListener("pagehide", onPageHide);
    document.addEventListener("visibilitychange", onVisibility);
  }
  flushTimer = setInterval(onTick, cfg.flushInterval);
  if (remote === "") loadRemote();
  else if (cfg.replay) startRecording();
  if (cfg.autoPage && !paged) {
    paged = true;
    api.page();
  }
}

function stop(): void {
  enabled = false;
  stopRecording();
  if (flushTimer) clearInterval(flushTimer);
  flushTimer = 0;
  if (trackTimer) clearTimeout(trackTimer);
  trackTimer = 0;
  buf = [];
  bufBytes = 0;
  trackBuf = [];
}

function startRecording(): void {
  if (!cfg || !session || stopRecord || !cfg.replay || (remote !== "server" && remote !== "local")) return;
  const { state } = session.current(Date.now());
  if (!state.sampled) return;
  const c = cfg;
  const all = { color: true, date: true, "datetime-local": true, email: true, month: true, number: true, range: true, search: true, tel: true, text: true, time: true, url: true, week: true, textarea: true, select: true, password: true, hidden: true, file: true, checkbox: true, radio: true };
  const stopRr = record({
    emit: guard(onEvent),
    maskInputOptions: all,
    maskInputFn: (text: string, el: HTMLElement) => (isInputUnmasked(el) ? text : "*".repeat(text.length)),
    maskTextSelector: "*",
    maskTextFn: (text: string, el: HTMLElement | null) => (isUnmasked(el) ? text : maskText(text)),
    blockClass: "veil-block",
    blockSelector: c.block,
    ignoreClass: "veil-ignore",
    slimDOMOptions: "all",
    inlineStylesheet: true,
    inlineImages: false,
    recordCanvas: false,
    collectFonts: false,
    recordCrossOriginIframes: false,
    sampling: { mousemove: c.mousemove, mouseInteraction: true, scroll: 150, media: 800, input: "last" },
    errorHandler: () => true,
  } as Parameters<typeof record>[0]);
  stopRecord = stopRr || (() => {});
  if (c.console.length) stopCaptures.push(captureConsole(c.console, pluginEvent));
  if (c.network) stopCaptures.push(captureNetwork({ mode: c.network, bodyUrls: c.networkBodyUrls, headers: c.networkHeaders, url: c.url, skipPrefix: c.host + "/" }, pluginEvent));
}

function stopRecording(): void {
  const s = stopRecord;
  stopRecord = null;
  if (s) guard(s)();
  for (const f of stopCaptures) guard(f)();
  stopCaptures = [];
}

// Sources of user activity: they keep a session alive (mutations alone do not).
const activity: Record<number, 1> = { 1: 1, 2: 1, 3: 1, 5: 1, 6: 1, 11: 1 };

function onEvent(e: { type: number; timestamp: number; data?: { source?: number } }): void {
  if (!enabled || !session || !cfg) return;
  const user = e.type === 3 && e.data && activity[e.data.source as number];
  if (user && session.expired(e.timestamp)) {
    // Back after 30 idle minutes (or past 12 hours): close the old
    // session and start the new one with a full snapshot.
    flushReplay();
    const { state } = session.current(e.timestamp);
    if (!state.sampled) {
      stopRecording();
      return;
    }
    record.takeFullSnapshot(true);
    return;
  }
  if (user || e.type === 2) session.touch(e.timestamp);
  const clean = sanitizeEvent(e, policy);
  if (!clean) return;
  push(JSON.stringify(clean));
}

function push(s: string): void {
  if (!cfg) return;
  buf.push(s);
  bufBytes += s.length;
  if (bufBytes >= cfg.maxBatchBytes) flushReplay();
}

function pluginEvent(plugin: string, payload: unknown): void {
  if (!enabled || !stopRecord) return;
  push(JSON.stringify({ type: 6, data: { plugin, payload }, timestamp: Date.now() }));
}

function pageURL(): string {
  return sanitizeURL(location.href, policy.url);
}

function flushReplay(): void {
  if (!buf.length || !cfg || !session || !transport) return;
  const sid = session.id();
  if (!sid) return;
  const meta: Record<string, unknown> = { url: pageURL(), sdk: VERSION };
  if (userId) meta.userId = userId;
  if (transport.dropped) meta.dropped = transport.dropped;
  const body = '{"events":[' + buf.join(",") + '],"meta":' + JSON.stringify(meta) + "}";
  buf = [];
  bufBytes = 0;
  const seq = session.nextSeq();
  transport.push({
    url: cfg.host + "/v1/replay?session=" + encodeURIComponent(sid) + "&seq=" + seq + "&key=" + encodeURIComponent(cfg.key),
    body,
    gzip: true,
    attempts: 0,
  });
}

function flushTrack(): void {
  if (trackTimer) clearTimeout(trackTimer);
  trackTimer = 0;
  if (!trackBuf.length || !cfg || !transport) return;
  while (trackBuf.length) {
    const part = trackBuf.splice(0, 100);
    const body = '{"batch":[' + part.join(",") + '],"sentAt":' + JSON.stringify(new Date().toISOString()) + ',"writeKey":' + JSON.stringify(cfg.key) + "}";
    transport.push({ url: cfg.host + "/v1/batch", body, gzip: false, attempts: 0 });
  }
}

const onTick = guard(() => {
  flushReplay();
  flushTrack();
  if (session) session.save();
});

const onPageHide = guard(() => {
  if (!enabled || !transport) return;
  flushReplay();
  flushTrack();
  if (session) session.save();
  transport.unload();
});

const onVisibility = guard(() => {
  if (document.visibilityState === "hidden") onTick();
});

// ---- tracking ------------------------------------------------------------

function message(type: string, fields: Record<string, unknown>): void {
  if (!enabled || !cfg) return;
  const msg: Record<string, unknown> = {
    type,
    messageId: uuid(),
    anonymousId,
    timestamp: new Date().toISOString(),
    context: {
      library: { name: LIB, version: VERSION },
      page: { path: sanitizeURL(location.pathname, policy.url), url: pageURL(), referrer: document.referrer ? sanitizeURL(document.referrer, policy.url) : "" },
      userAgent: navigator.userAgent,
      locale: navigator.language,
      veil: { sessionId: session ? session.id() : "" },
    },
  };
  if (userId) msg.userId = userId;
  for (const k in fields) if (fields[k] !== undefined) msg[k] = fields[k];
  let s: string;
  try {
    s = JSON.stringify(msg);
  } catch (_) {
    return; // circular properties: drop the call, never the page
  }
  if (s.length > 32 * 1024) return; // the server's per-message limit
  trackBuf.push(s);
  if (!trackTimer) trackTimer = setTimeout(guard(flushTrack), 500);
}

function props(p: unknown): Record<string, unknown> | undefined {
  return p && typeof p === "object" ? (p as Record<string, unknown>) : undefined;
}

// ---- public API ----------------------------------------------------------

let scriptOrigin = "";

const api: VeilAPI = {
  version: VERSION,
  init: guard((o: VeilOptions) => {
    if (cfg || !o || typeof o.key !== "string" || !o.key) return;
    cfg = configure(o);
    session = new Session(cfg.sampleRate);
    transport = new Transport({
      maxQueueBytes: cfg.maxQueueBytes,
      onRefused: guard(() => {
        stop();
        reason = "refused";
      }),
      onRecovered: guard(() => {
        // Queue the resync snapshot at once (not at the next tick): a
        // pending veil.flush() then waits for it too, so a page closed
        // right after the flush does not end its replay on a gap.
        if (!stopRecord) return;
        record.takeFullSnapshot(true);
        flushReplay();
      }),
    });
    start();
  }),
  identify: guard((id: string, traits?: Record<string, unknown>) => {
    if (!enabled) return;
    if (typeof id === "string" && id) {
      userId = id;
      setItem(storeKind(), "veil_uid", id);
    }
    message("identify", { traits: props(traits) });
  }),
  track: guard((event: string, properties?: Record<string, unknown>) => {
    if (typeof event !== "string" || !event) return;
    message("track", { event, properties: props(properties) });
    // The name (never the properties) also goes into the recording, so the
    // player can mark it and the session list can filter by it.
    if (stopRecord && enabled) record.addCustomEvent(event.slice(0, 200), {});
  }),
  page: guard((name?: string, properties?: Record<string, unknown>) => {
    const p: Record<string, unknown> = { path: sanitizeURL(location.pathname, policy.url), url: pageURL() };
    if (document.referrer) p.referrer = sanitizeURL(document.referrer, policy.url);
    const extra = props(properties);
    if (extra) for (const k in extra) p[k] = extra[k];
    message("page", { name: typeof name === "string" ? name : undefined, properties: p });
  }),
  optOut: guard(() => {
    setItem(storeKind(), "veil_consent", "denied");
    stop();
    if (transport) transport.clear();
    if (session) session.clear();
    setItem(storeKind(), "veil_aid", null);
    setItem(storeKind(), "veil_uid", null);
    anonymousId = userId = "";
    reason = "opted-out";
  }),
  optIn: guard(() => {
    setItem(storeKind(), "veil_consent", "granted");
    if (cfg) start();
  }),
  getSessionId: guard(() => (enabled && stopRecord && session ? session.id() : ""), ""),
  flush: guard(
    (timeoutMs?: number) => {
      if (!enabled || !transport) return Promise.resolve();
      flushReplay();
      flushTrack();
      return transport.drained(num(timeoutMs, 10000, 0, 600000));
    },
    Promise.resolve(),
  ),
  reset: guard(() => {
    const k = storeKind();
    setItem(k, "veil_uid", null);
    userId = "";
    anonymousId = uuid();
    if (enabled) setItem(k, "veil_aid", anonymousId);
    if (stopRecord) {
      flushReplay();
      stopRecording();
      if (session) session.clear();
      startRecording();
    } else if (session) session.clear();
  }),
  status: guard(
    (): VeilStatus => ({
      recording: !!stopRecord,
      enabled,
      reason: enabled && !stopRecord && cfg && cfg.replay && remote !== "pending" ? "sampled-out" : enabled && remote === "failed" ? "config-unavailable" : reason,
      sessionId: api.getSessionId(),
      queued: transport ? transport.queued() : 0,
      queuedBytes: transport ? transport.queuedBytes() : 0,
      dropped: transport ? transport.dropped : 0,
      refusals: transport ? transport.refusals : 0,
      sent: transport ? transport.sent : 0,
      failures: transport ? transport.failures : 0,
      config: remote,
    }),
    { recording: false, enabled: false, reason: "error", sessionId: "", queued: 0, queuedBytes: 0, dropped: 0, refusals: 0, sent: 0, failures: 0, config: "" },
  ),
};

/**
 * Script-tag install: <script src=".../sdk/veil.js" data-key="veil_wk_…">
 * initialises from data attributes, so a page needs no inline script.
 */
export function autoInit(s: HTMLScriptElement | null): void {
  guard(() => {
    if (!s || !s.src) return;
    try {
      scriptOrigin = new URL(s.src, location.href).origin;
    } catch (_) {
      scriptOrigin = "";
    }
    const d = s.dataset;
    if (!d.key) return;
    api.init({
      key: d.key,
      host: d.host,
      consent: d.consent === "required" ? "required" : "implied",
      respectDoNotTrack: bool(d.respectDnt, true),
      sampleRate: num(d.sampleRate, 1, 0, 1),
      autoPage: bool(d.autoPage, true),
      replay: bool(d.replay, true),
      allowQueryParams: d.allowQueryParams ? d.allowQueryParams.split(",") : undefined,
      unmaskSelector: d.unmaskSelector,
      maskSelector: d.maskSelector,
      blockSelector: d.blockSelector,
      recordIframes: bool(d.recordIframes, false),
      flushInterval: num(d.flushInterval, 5000, 250, 600000),
      maxQueueBytes: num(d.maxQueueBytes, 4 * 1024 * 1024, 16 * 1024, 64 * 1024 * 1024),
    });
  })();
}

export default api;
export { api as veil };
