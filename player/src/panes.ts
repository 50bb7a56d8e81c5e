// Pieces of the player page that follow the playhead: time formatting,
// ?t= parsing, the lists (console, network, moments) and what a recorded
// event contributes to them. No DOM outside the player's own elements.

/** A replayed event, as the server streams it (rrweb's shape). */
export interface Ev {
  type: number;
  timestamp: number;
  data?: any;
}

export type Kind = "click" | "nav" | "error" | "custom";

/** formats a time offset in ms as m:ss (h:mm:ss past an hour). */
export function fmt(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? h + ":" + String(m).padStart(2, "0") + ":" + ss : m + ":" + ss;
}

/**
 * parseT reads the ?t= of a link to a moment: "90", "90s", "1m30s",
 * "1h2m", "1:30", "1:02:03". It returns milliseconds, or -1.
 */
export function parseT(s: string | null): number {
  if (!s) return -1;
  s = s.trim().toLowerCase();
  let m = /^(\d{1,3}):(\d{1,2})(?::(\d{1,2}))?$/.exec(s);
  if (m) {
    const parts = [m[1], m[2], m[3]].filter((x) => x !== undefined).map(Number);
    let sec = 0;
    for (const p of parts) sec = sec * 60 + p;
    return sec * 1000;
  }
  m = /^(?:(\d{1,3})h)?(?:(\d{1,5})m)?(?:(\d{1,7}(?:\.\d{1,3})?)s?)?$/.exec(s);
  if (!m || s === "") return -1;
  const sec = Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0);
  return isFinite(sec) ? Math.round(sec * 1000) : -1;
}

/** linkT is the ?t= value for a time offset: whole seconds, "90s". */
export function linkT(ms: number): string {
  return Math.max(0, Math.floor(ms / 1000)) + "s";
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Pane is a list of timed entries, sorted by time: entries up to the
 * playhead are marked "past", the latest of them "now", and the list
 * scrolls to keep "now" in view unless the viewer is reading it.
 */
export class Pane {
  items: { ts: number; el: HTMLElement }[] = [];
  private cur = -1;
  private empty: HTMLElement | null;

  constructor(
    readonly list: HTMLElement,
    private readonly counter: HTMLElement | null,
  ) {
    this.empty = list.querySelector(".empty");
  }

  add(ts: number, li: HTMLElement): void {
    if (this.empty) {
      this.empty.remove();
      this.empty = null;
    }
    let i = this.items.length;
    while (i > 0 && this.items[i - 1].ts > ts) i--;
    this.list.insertBefore(li, i < this.items.length ? this.items[i].el : null);
    this.items.splice(i, 0, { ts, el: li });
    if (i <= this.cur) {
      li.classList.add("past");
      this.cur++;
    }
    if (this.counter) this.counter.textContent = String(this.items.length);
  }

  /** sync marks the entries at or before abs (a timestamp). */
  sync(abs: number): void {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid].ts <= abs) lo = mid + 1;
      else hi = mid;
    }
    const idx = lo - 1;
    if (idx === this.cur) return;
    const a = Math.min(idx, this.cur);
    const b = Math.max(idx, this.cur);
    for (let i = a + 1; i <= b; i++) this.items[i].el.classList.toggle("past", i <= idx);
    if (this.cur >= 0 && this.items[this.cur]) {
      this.items[this.cur].el.classList.remove("now");
      this.items[this.cur].el.removeAttribute("aria-current");
    }
    this.cur = idx;
    if (idx < 0) return;
    const now = this.items[idx].el;
    now.classList.add("now");
    now.setAttribute("aria-current", "true");
    if (!this.list.matches(":hover, :focus-within")) {
      const top = now.offsetTop - this.list.clientHeight / 2 + now.offsetHeight / 2;
      this.list.scrollTop = Math.max(0, top);
    }
  }
}

/** consoleText joins rrweb/console@1 arguments (JSON strings) for display. */
export function consoleText(payload: unknown): string {
  if (!Array.isArray(payload)) return "";
  return payload
    .map((p) => {
      if (typeof p !== "string") return String(p);
      try {
        const v = JSON.parse(p);
        return typeof v === "string" ? v : JSON.stringify(v);
      } catch (_) {
        return p;
      }
    })
    .join(" ")
    .slice(0, 2000);
}

/** A network record: Veil's veil/network@1 payload, or one of rrweb/network@1. */
export interface Net {
  method: string;
  url: string;
  status: number;
  duration: number;
}

/** netRecords reads a network plugin payload in either shape. */
export function netRecords(plugin: string, payload: any): Net[] {
  if (!payload || typeof payload !== "object") return [];
  const one = (r: any): Net => ({
    method: String(r.method || "GET").slice(0, 10),
    url: String(r.url || r.name || "").slice(0, 500),
    status: Number(r.status ?? r.responseStatus ?? 0) || 0,
    duration: Math.round(Number(r.duration ?? (r.endTime && r.startTime ? r.endTime - r.startTime : 0)) || 0),
  });
  if (plugin === "rrweb/network@1" && Array.isArray(payload.requests)) return payload.requests.slice(0, 100).map(one);
  return [one(payload)];
}

/** shortURL is a URL's path, for the pane (the whole URL is the entry's title). */
export function shortURL(u: string): string {
  try {
    return new URL(u).pathname || "/";
  } catch (_) {
    return u;
  }
}

export function pathOf(u: string): string {
  try {
    return new URL(u).pathname || "/";
  } catch (_) {
    return u;
  }
}

export function consoleItem(t: string, level: string, text: string): HTMLElement {
  const li = el("li", "lvl-" + (/^(error|warn|info|debug|log|assert|trace)$/.test(level) ? level : "log"));
  li.append(el("time", "", t), el("span", "msg", text));
  return li;
}

export function netItem(t: string, n: Net): HTMLElement {
  const bad = n.status === 0 || n.status >= 400;
  const li = el("li", bad ? "bad" : "");
  li.append(
    el("time", "", t),
    el("span", "method", n.method),
    el("span", "status", n.status ? String(n.status) : "failed"),
    el("span", "url", shortURL(n.url)),
    el("span", "dur", n.duration + " ms"),
  );
  li.title = n.method + " " + n.url + (n.status ? " → " + n.status : " (failed)");
  return li;
}

export const kindLabel: Record<Kind, string> = { click: "Click", nav: "Page", error: "Error", custom: "Event" };

export function momentItem(t: string, kind: Kind, label: string, ts: number): HTMLElement {
  const li = el("li", "k-" + kind);
  const b = el("button", "moment");
  b.type = "button";
  b.dataset.ts = String(ts);
  b.append(el("time", "", t), el("span", "kind", kindLabel[kind]), el("span", "label", label));
  li.append(b);
  return li;
}

export function marker(kind: Kind, label: string, ts: number): HTMLElement {
  const m = el("span", "mark k-" + kind);
  m.title = kindLabel[kind] + (label ? ": " + label : "");
  m.dataset.ts = String(ts);
  return m;
}
