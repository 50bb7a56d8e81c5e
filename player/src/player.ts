// Veil replay player: plays a session's rrweb events in rrweb's Replayer,
// with a timeline of moments (clicks, pages, errors, custom events),
// console and network panes that follow the playhead, speeds, inactivity
// skipping, links to a moment (?t=90s) and keyboard control.
//
// The page that loads this script is served under a CSP that forbids every
// request except to the dashboard itself (default-src 'none'), and the
// server has already neutralised the recording (scripts, event handlers,
// javascript: URLs, meta refresh, base href and every external URL are
// removed). The Replayer rebuilds the page in an iframe sandboxed with
// "allow-same-origin" only: recorded scripts never run. Everything recorded
// is put into the page as text (textContent), never as markup.
import { Replayer } from "@rrweb/replay";
import {
  type Ev,
  type Kind,
  Pane,
  consoleItem,
  consoleText,
  fmt,
  linkT,
  marker,
  momentItem,
  netItem,
  netRecords,
  parseT,
  pathOf,
} from "./panes";

declare global {
  interface Window {
    /** performance.now() when the first frame was rebuilt and painted. */
    veilFirstFrame?: number;
    /** performance.now() when the whole session had arrived. */
    veilLoaded?: number;
    /** performance.now() when a ?t= link's moment was shown. */
    veilSeeked?: number;
    /** performance.now() when the recording's first bytes came. */
    veilFirstByte?: number;
    /** performance.now() when the recording was requested. */
    veilFetch?: number;
  }
}

const IDLE_MS = 10000; // rrweb's inactivity threshold

function q<T extends HTMLElement>(root: HTMLElement, sel: string): T {
  return root.querySelector<T>(sel)!;
}

class Player {
  r: Replayer | null = null;
  private pending: Ev[] = [];
  count = 0;
  loaded = false;
  private playing = false;
  private waiting = false; // played to the end of what has arrived
  private timer = 0;
  private seekTo = -1; // a ?t= not reached by the stream yet
  private dirty = false;
  private painted: () => void = () => {};
  /** resolves once the first frame is on screen (or after 3 s). */
  readonly firstFrame = new Promise<void>((resolve) => {
    this.painted = resolve;
    window.setTimeout(resolve, 3000);
  });

  private readonly status: HTMLElement;
  private readonly stage: HTMLElement;
  private readonly play: HTMLButtonElement;
  private readonly seek: HTMLInputElement;
  private readonly clock: HTMLElement;
  private readonly speed: HTMLSelectElement;
  private readonly skip: HTMLInputElement;
  private readonly copy: HTMLButtonElement;
  private readonly linkOut: HTMLInputElement;
  private readonly marks: HTMLElement;
  private readonly idle: HTMLElement;
  private readonly buffer: HTMLElement;
  private readonly consolePane: Pane;
  private readonly netPane: Pane;
  private readonly moments: Pane;
  private readonly expected: number; // the session's duration as the server knows it
  private start = 0; // timestamp of the first event

  // Facts for the metadata panel.
  private pages: string[] = [];
  private user = "";
  private readonly userFact: string; // the server's "identified" or "not identified"
  private counts = { click: 0, error: 0, net: 0, custom: 0, nav: 0 };

  constructor(readonly root: HTMLElement) {
    this.status = q(root, ".player-status");
    this.stage = q(root, ".player-stage");
    this.play = q(root, ".player-play");
    this.seek = q(root, ".player-seek");
    this.clock = q(root, ".player-time");
    this.speed = q(root, ".player-speed");
    this.skip = q(root, ".player-skip");
    this.copy = q(root, ".player-copy");
    this.linkOut = q(root, ".player-link");
    this.marks = q(root, ".player-marks");
    this.idle = q(root, ".player-idle");
    this.buffer = q(root, ".player-buffer");
    this.consolePane = new Pane(q(root, ".player-console"), q(root, ".count-console"));
    this.netPane = new Pane(q(root, ".player-network"), q(root, ".count-network"));
    this.moments = new Pane(q(root, ".player-moments"), q(root, ".count-moments"));
    this.expected = Number(root.dataset.durationMs || 0);
    this.userFact = (root.querySelector(".meta-user") || { textContent: "" }).textContent || "";
    this.seekTo = parseT(new URLSearchParams(location.search).get("t"));
  }

  set(state: string, msg: string): void {
    this.root.dataset.state = state;
    this.status.textContent = msg;
  }

  // ---- events as they arrive ---------------------------------------------

  take(ev: Ev): void {
    this.count++;
    if (!this.start) this.start = ev.timestamp;
    const custom = ev.type === 5 && ev.data && typeof ev.data.tag === "string" && ev.data.tag.indexOf("veil.") === 0;
    this.index(ev);
    if (custom) return; // analytics messages: for the panels, not the Replayer
    if (this.r) {
      this.r.addEvent(ev as any);
      this.dirty = true;
      return;
    }
    this.pending.push(ev);
    if (ev.type === 2 && this.pending.length >= 2) this.begin();
  }

  private begin(): void {
    const r = new Replayer(this.pending.splice(0) as any[], {
      root: this.stage,
      mouseTail: false,
      triggerFocus: false,
      showWarning: false,
      UNSAFE_replayCanvas: false,
      pauseAnimation: true,
      skipInactive: this.skip.checked,
      speed: Number(this.speed.value) || 1,
      insertStyleRules: [".rr-block, .veil-block { background: #c8c8c8 !important; }"],
    });
    this.r = r;
    r.on("fullsnapshot-rebuilded", () => {
      if (window.veilFirstFrame === undefined) {
        requestAnimationFrame(() => {
          if (window.veilFirstFrame !== undefined) return;
          window.veilFirstFrame = performance.now();
          this.root.dataset.firstFrameMs = String(Math.round(window.veilFirstFrame));
          this.painted();
        });
      }
    });
    r.on("resize", () => this.fit());
    r.on("finish", () => {
      if (!this.loaded) this.waiting = true;
      else this.setPlaying(false);
      this.tick();
    });
    r.on("skip-start", () => {
      this.root.classList.add("skipping");
      this.root.dataset.skipped = String(Number(this.root.dataset.skipped || 0) + 1);
    });
    r.on("skip-end", () => this.root.classList.remove("skipping"));
    this.start = r.getMetaData().startTime;
    this.wire();
    r.pause(0);
    this.fit();
    this.root.dataset.state = "ready";
    this.status.textContent = "Loading…";
    this.maybeSeek();
    this.tick();
  }

  /** index adds what an event means to the panes and the timeline. */
  private index(ev: Ev): void {
    const d = ev.data || {};
    switch (ev.type) {
      case 4: {
        const p = pathOf(String(d.href || ""));
        if (this.pages.indexOf(p) < 0) this.pages.push(p);
        this.counts.nav++;
        this.moment(ev.timestamp, "nav", p);
        this.facts();
        break;
      }
      case 3:
        if (d.source === 2 && d.type === 2) {
          this.counts.click++;
          this.moment(ev.timestamp, "click", "");
        }
        break;
      case 5: {
        const tag = String(d.tag || "");
        const pl = d.payload || {};
        if (tag === "veil.identify") {
          if (typeof pl.userId === "string" && pl.userId) this.user = pl.userId;
          this.facts();
        } else if (tag === "veil.track") {
          const name = String(pl.event || "").slice(0, 200);
          this.custom(ev.timestamp, /error/i.test(name) ? "error" : "custom", name);
        } else if (tag) {
          this.custom(ev.timestamp, /error/i.test(tag) ? "error" : "custom", tag.slice(0, 200));
        }
        break;
      }
      case 6: {
        const plugin = String(d.plugin || "");
        const t = fmt(ev.timestamp - this.start);
        if (plugin === "rrweb/console@1" && d.payload) {
          const level = String(d.payload.level || "log");
          const text = consoleText(d.payload.payload);
          this.consolePane.add(ev.timestamp, consoleItem(t, level, text));
          if (level === "error" || level === "assert") {
            this.counts.error++;
            this.moment(ev.timestamp, "error", text.slice(0, 200));
          }
        } else if (plugin === "veil/network@1" || plugin === "rrweb/network@1") {
          for (const n of netRecords(plugin, d.payload)) {
            this.counts.net++;
            this.netPane.add(ev.timestamp, netItem(t, n));
          }
        }
        break;
      }
    }
  }

  private customSeen: Record<string, number[]> = {};

  /**
   * custom records a custom event once: the SDK puts one in the recording
   * per track() call and the server adds the stored track message too.
   */
  private custom(ts: number, kind: Kind, label: string): void {
    const seen = (this.customSeen[kind + ":" + label] ||= []);
    if (seen.some((t) => Math.abs(t - ts) < 3000)) return;
    seen.push(ts);
    if (kind === "error") this.counts.error++;
    else this.counts.custom++;
    this.moment(ts, kind, label);
  }

  private moment(ts: number, kind: Kind, label: string): void {
    this.moments.add(ts, momentItem(fmt(ts - this.start), kind, label, ts));
    const m = marker(kind, label, ts);
    m.style.left = this.pct(ts);
    this.marks.append(m);
  }

  private facts(): void {
    const set = (sel: string, v: string) => {
      const e = this.root.querySelector(sel);
      if (e) e.textContent = v;
    };
    set(".meta-user", this.user || this.userFact);
    set(".meta-pages", this.pages.length ? this.pages.slice(0, 20).join(", ") + (this.pages.length > 20 ? " …" : "") : "—");
    const c = this.counts;
    const n = (k: number, one: string, many: string) => k + " " + (k === 1 ? one : many);
    set(".meta-counts", [n(c.click, "click", "clicks"), n(c.nav, "page view", "page views"), n(c.error, "error", "errors"), n(c.net, "request", "requests"), n(c.custom, "custom event", "custom events")].join(", "));
  }

  // ---- the timeline --------------------------------------------------------

  /** total is the timeline's length: what has arrived, or the expected length while loading. */
  private total(): number {
    const got = this.r ? this.r.getMetaData().totalTime : 0;
    return this.loaded ? got : Math.max(got, this.expected);
  }

  private loadedTime(): number {
    return this.r ? this.r.getMetaData().totalTime : 0;
  }

  private pct(ts: number): string {
    const all = this.total() || 1;
    return Math.min(100, Math.max(0, ((ts - this.start) / all) * 100)).toFixed(3) + "%";
  }

  private layoutMarks(): void {
    for (const m of Array.from(this.marks.children) as HTMLElement[]) m.style.left = this.pct(Number(m.dataset.ts));
    this.idleGaps();
  }

  /** idleGaps shades the stretches without user input that skipping jumps over. */
  private idleGaps(): void {
    if (!this.r) return;
    const evs = (this.r as any).service.state.context.events as Ev[];
    this.idle.replaceChildren();
    let last = this.start;
    const all = this.total() || 1;
    const gap = (a: number, b: number) => {
      if (b - a < IDLE_MS) return;
      const s = document.createElement("span");
      s.style.left = (((a - this.start) / all) * 100).toFixed(3) + "%";
      s.style.width = (((b - a) / all) * 100).toFixed(3) + "%";
      this.idle.append(s);
    };
    for (const e of evs) {
      if (e.type === 3 && e.data && e.data.source > 0 && e.data.source <= 5) {
        gap(last, e.timestamp);
        last = e.timestamp;
      }
    }
    if (this.loaded) gap(last, this.start + this.loadedTime());
  }

  tick = (): void => {
    const r = this.r;
    if (!r) return;
    const all = this.total();
    const loadedT = this.loadedTime();
    if (this.dirty) {
      this.dirty = false;
      if (this.waiting && this.playing && loadedT > r.getCurrentTime() + 200) {
        this.waiting = false;
        r.play(r.getCurrentTime());
      }
      this.maybeSeek();
    }
    const t = Math.min(r.getCurrentTime(), all);
    if (this.seek.max !== String(all)) {
      this.seek.max = String(all);
      this.layoutMarks();
    }
    this.seek.value = String(t);
    this.seek.setAttribute("aria-valuetext", fmt(t) + " of " + fmt(all));
    this.clock.textContent = fmt(t) + " / " + fmt(all);
    this.buffer.style.width = ((all ? Math.min(1, loadedT / all) : 1) * 100).toFixed(2) + "%";
    const abs = this.start + t;
    this.consolePane.sync(abs);
    this.netPane.sync(abs);
    this.moments.sync(abs);
    this.linkOut.value = this.link(t);
    this.facts();
  };

  private link(t: number): string {
    return location.origin + location.pathname + "?t=" + linkT(t);
  }

  /** maybeSeek goes to a ?t= once the stream has reached it. */
  private maybeSeek(): void {
    const r = this.r;
    if (!r || this.seekTo < 0) return;
    if (this.seekTo > this.loadedTime() && !this.loaded) {
      this.status.textContent = "Loading up to " + fmt(this.seekTo) + "…";
      return;
    }
    const t = Math.min(this.seekTo, this.loadedTime());
    this.seekTo = -1;
    this.goTo(t);
    this.root.dataset.seeked = String(t);
    window.veilSeeked = performance.now();
    if (!this.loaded) this.status.textContent = "Loading…";
  }

  // ---- controls --------------------------------------------------------------

  private setPlaying(on: boolean): void {
    this.playing = on;
    this.waiting = false;
    this.play.textContent = on ? "Pause" : "Play";
    this.play.setAttribute("aria-pressed", on ? "true" : "false");
    this.root.dataset.playing = on ? "1" : "";
    window.clearInterval(this.timer);
    if (on) this.timer = window.setInterval(this.tick, 200);
  }

  toggle(): void {
    const r = this.r;
    if (!r) return;
    if (this.playing) {
      r.pause();
      this.setPlaying(false);
    } else {
      const t = r.getCurrentTime();
      r.play(t >= this.loadedTime() - 50 && this.loaded ? 0 : t);
      this.setPlaying(true);
    }
    this.tick();
  }

  goTo(t: number): void {
    const r = this.r;
    if (!r) return;
    t = Math.max(0, Math.min(t, this.loadedTime()));
    if (this.playing) r.play(t);
    else r.pause(t);
    this.tick();
  }

  private wire(): void {
    const r = this.r!;
    this.play.addEventListener("click", () => this.toggle());
    this.seek.addEventListener("input", () => this.goTo(Number(this.seek.value)));
    this.speed.addEventListener("change", () => {
      r.setConfig({ speed: Number(this.speed.value) || 1 });
      this.root.dataset.speed = this.speed.value;
    });
    this.skip.addEventListener("change", () => r.setConfig({ skipInactive: this.skip.checked }));
    this.copy.addEventListener("click", () => {
      const url = this.link(Math.min(r.getCurrentTime(), this.total()));
      this.linkOut.value = url;
      const shown = () => {
        this.linkOut.hidden = false;
        this.linkOut.select();
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(url).then(
          () => (this.status.textContent = "Link copied: " + url),
          () => shown(),
        );
      } else shown();
    });
    const jump = (e: Event) => {
      const b = (e.target as HTMLElement).closest<HTMLElement>("[data-ts]");
      if (b) this.goTo(Number(b.dataset.ts) - this.start);
    };
    this.moments.list.addEventListener("click", jump);
    this.marks.addEventListener("click", jump);
    document.addEventListener("keydown", (e) => this.key(e));
    window.addEventListener("resize", () => this.fit());
    for (const c of [this.play, this.seek, this.speed, this.skip, this.copy]) c.disabled = false;
  }

  private key(e: KeyboardEvent): void {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || !this.r) return;
    const t = e.target as HTMLElement;
    const tag = t.tagName;
    const type = tag === "INPUT" ? (t as HTMLInputElement).type : "";
    const field = (tag === "INPUT" && type !== "range" && type !== "checkbox") || tag === "SELECT" || tag === "TEXTAREA" || t.isContentEditable;
    if (field) return;
    const now = this.r.getCurrentTime();
    switch (e.key) {
      case " ":
      case "k":
        // Space on a focused button or check box activates it, as usual.
        if (e.key === " " && (tag === "BUTTON" || type === "checkbox")) return;
        this.toggle();
        break;
      case "ArrowLeft":
        this.goTo(now - (e.shiftKey ? 30000 : 5000));
        break;
      case "ArrowRight":
        this.goTo(now + (e.shiftKey ? 30000 : 5000));
        break;
      case "Home":
        this.goTo(0);
        break;
      case "End":
        this.goTo(this.loadedTime());
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  /** fit scales the recorded viewport to the stage's width. */
  fit(): void {
    const w = this.stage.querySelector<HTMLElement>(".replayer-wrapper");
    const f = this.stage.querySelector<HTMLIFrameElement>("iframe");
    if (!w || !f) return;
    const fw = Number.parseFloat(f.width) || f.offsetWidth;
    const fh = Number.parseFloat(f.height) || f.offsetHeight;
    if (!fw || !fh) return;
    const maxH = Math.max(240, window.innerHeight * 0.7);
    const s = Math.min(1, this.stage.clientWidth / fw, maxH / fh);
    w.style.transform = "scale(" + s.toFixed(4) + ")";
    this.stage.style.height = Math.ceil(fh * s) + "px";
  }

  done(): void {
    window.veilLoaded = performance.now();
    this.loaded = true;
    this.root.dataset.loaded = "1";
    this.dirty = true;
    if (this.r) {
      this.status.textContent = this.count + " events";
      this.maybeSeek();
      this.tick();
      this.layoutMarks();
    } else this.set("empty", "This session has no replayable recording.");
  }
}

async function main(root: HTMLElement): Promise<void> {
  const p = new Player(root);
  let resp: Response;
  try {
    window.veilFetch = performance.now();
    resp = await fetch(root.dataset.src!, { credentials: "same-origin", headers: { Accept: "application/x-ndjson" } });
    if (!resp.ok || !resp.body) throw new Error("HTTP " + resp.status);
  } catch (e) {
    p.set("error", "The recording could not be loaded.");
    return;
  }
  // Events arrive as NDJSON while the server decrypts segment after
  // segment: play starts on the first full snapshot, later events are
  // added to the running Replayer.
  const reader = resp.body.getReader();
  const td = new TextDecoder();
  let buf = "";
  let last = performance.now();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (window.veilFirstByte === undefined) window.veilFirstByte = performance.now();
      buf += td.decode(value, { stream: true });
      let start = 0;
      let i: number;
      while ((i = buf.indexOf("\n", start)) >= 0) {
        const line = buf.slice(start, i);
        start = i + 1;
        if (line.trim()) p.take(JSON.parse(line));
      }
      buf = buf.slice(start);
      // The Replayer draws its first frame from a timer: let it, before
      // taking more of the stream (which would keep the thread busy).
      if (p.r && window.veilFirstFrame === undefined) await p.firstFrame;
      // Keep the clock and panes moving while a long session streams in.
      if (performance.now() - last > 250) {
        last = performance.now();
        p.tick();
      }
    }
    if (buf.trim()) p.take(JSON.parse(buf));
    p.done();
  } catch (e) {
    root.dataset.loaded = "1";
    p.set("error", "The recording could not be loaded completely.");
  }
}

const root = document.getElementById("player");
if (root) main(root);
