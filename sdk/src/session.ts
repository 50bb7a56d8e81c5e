// Session ids, sequence numbers and the few values the SDK keeps in the
// browser. Storage can be missing or throw (sandboxed frames, blocked
// cookies): everything falls back to memory.

export const IDLE_MS = 30 * 60 * 1000;
export const MAX_MS = 12 * 60 * 60 * 1000;

const mem: Record<string, string> = {};

function store(kind: "local" | "session"): Storage | null {
  try {
    const s = kind === "local" ? window.localStorage : window.sessionStorage;
    return s || null;
  } catch (_) {
    return null;
  }
}

export function getItem(kind: "local" | "session", k: string): string | null {
  try {
    const s = store(kind);
    const v = s ? s.getItem(k) : null;
    if (v !== null) return v;
  } catch (_) {
    /* fall through */
  }
  return Object.prototype.hasOwnProperty.call(mem, kind + k) ? mem[kind + k] : null;
}

export function setItem(kind: "local" | "session", k: string, v: string | null): void {
  if (v === null) delete mem[kind + k];
  else mem[kind + k] = v;
  try {
    const s = store(kind);
    if (!s) return;
    if (v === null) s.removeItem(k);
    else s.setItem(k, v);
  } catch (_) {
    /* memory copy is enough */
  }
}

/** A random id of 22 base-62 characters (131 bits), valid as a session id. */
export function randomId(): string {
  const abc = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const b = new Uint8Array(22);
  try {
    crypto.getRandomValues(b);
  } catch (_) {
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
  }
  let s = "";
  for (let i = 0; i < b.length; i++) s += abc[b[i] % 62];
  return s;
}

export function uuid(): string {
  const b = new Uint8Array(16);
  try {
    crypto.getRandomValues(b);
  } catch (_) {
    for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  let h = "";
  for (let i = 0; i < 16; i++) h += (b[i] + 0x100).toString(16).slice(1);
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
}

interface State {
  id: string;
  start: number;
  last: number;
  seq: number;
  sampled: boolean;
}

const KEY = "veil_session";

/**
 * Session is this tab's replay session: its id survives reloads in the
 * same tab (sessionStorage), ends after 30 idle minutes or 12 hours, and
 * numbers its uploads so the server stores each (session, seq) once.
 */
export class Session {
  private s: State | null = null;

  constructor(private sampleRate: number) {
    try {
      const raw = getItem("session", KEY);
      if (raw) {
        const v = JSON.parse(raw) as State;
        if (typeof v.id === "string" && /^[A-Za-z0-9_-]{8,64}$/.test(v.id) && typeof v.seq === "number") this.s = v;
      }
    } catch (_) {
      this.s = null;
    }
  }

  /**
   * Sets the sample rate of sessions started from now on (the server can
   * lower it); at 0 the current session stops being recorded too.
   */
  setRate(r: number): void {
    this.sampleRate = r;
    if (r <= 0 && this.s) this.s.sampled = false;
  }

  /** Whether the session is over at time now (or there is none). */
  expired(now: number): boolean {
    const s = this.s;
    return !s || now - s.last > IDLE_MS || now - s.start > MAX_MS;
  }

  /** Returns the live session, starting a new one if needed; fresh is true when it did. */
  current(now: number): { state: State; fresh: boolean } {
    let fresh = false;
    if (this.expired(now)) {
      this.s = { id: randomId(), start: now, last: now, seq: 0, sampled: Math.random() < this.sampleRate };
      fresh = true;
      this.save();
    }
    return { state: this.s as State, fresh };
  }

  touch(now: number): void {
    if (this.s && now > this.s.last) this.s.last = now;
  }

  /** Allocates the next sequence number of the current session. */
  nextSeq(): number {
    const s = this.s as State;
    const n = s.seq++;
    this.save();
    return n;
  }

  id(): string {
    return this.s ? this.s.id : "";
  }

  clear(): void {
    this.s = null;
    setItem("session", KEY, null);
  }

  save(): void {
    if (this.s) setItem("session", KEY, JSON.stringify(this.s));
  }
}
