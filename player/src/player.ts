// Veil replay player: plays a session's rrweb events in rrweb's Replayer.
//
// The page that loads this script is served under a CSP that forbids every
// request except to the dashboard itself (default-src 'none'), and the
// server has already neutralised the recording (scripts, event handlers,
// javascript: URLs, meta refresh, base href and every external URL are
// removed). The Replayer rebuilds the page in an iframe sandboxed with
// "allow-same-origin" only: recorded scripts never run.
import { Replayer } from "@rrweb/replay";

type State = "loading" | "ready" | "empty" | "error";

function fmt(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

async function main(root: HTMLElement): Promise<void> {
  const status = root.querySelector<HTMLElement>(".player-status")!;
  const stage = root.querySelector<HTMLElement>(".player-stage")!;
  const set = (s: State, msg: string) => {
    root.dataset.state = s;
    status.textContent = msg;
  };
  const t0 = performance.now();
  let resp: Response;
  try {
    resp = await fetch(root.dataset.src!, { credentials: "same-origin", headers: { Accept: "application/x-ndjson" } });
    if (!resp.ok || !resp.body) throw new Error("HTTP " + resp.status);
  } catch (e) {
    set("error", "The recording could not be loaded.");
    return;
  }
  // Events arrive as NDJSON while the server decrypts segment after
  // segment: play starts on the first full snapshot, later events are
  // added to the running Replayer.
  const reader = resp.body.getReader();
  const td = new TextDecoder();
  let buf = "";
  let count = 0;
  let r: Replayer | null = null;
  const pending: any[] = [];
  const onFirst = (rp: Replayer) => {
    rp.on("fullsnapshot-rebuilded", () => {
      if (!root.dataset.firstFrameMs) root.dataset.firstFrameMs = String(Math.round(performance.now() - t0));
    });
  };
  const take = (line: string) => {
    if (!line.trim()) return;
    const ev = JSON.parse(line);
    count++;
    if (r) {
      r.addEvent(ev);
      return;
    }
    pending.push(ev);
    if (ev.type === 2 && pending.length >= 2) {
      r = new Replayer(pending.splice(0), {
        root: stage,
        mouseTail: false,
        triggerFocus: false,
        showWarning: false,
        UNSAFE_replayCanvas: false,
        pauseAnimation: true,
        insertStyleRules: [".rr-block, .veil-block { background: #c8c8c8 !important; }"],
      });
      onFirst(r);
      ready(r);
    }
  };
  let ready = (_: Replayer) => {};
  const done = new Promise<void>((resolve) => {
    ready = (rp: Replayer) => {
      resolve();
      setup(rp);
    };
  });
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += td.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          take(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      }
      take(buf);
      root.dataset.loaded = "1";
      if (r) status.textContent = count + " events";
      else set("empty", "This session has no replayable recording.");
    } catch (e) {
      root.dataset.loaded = "1";
      set("error", "The recording could not be loaded completely.");
    }
  })();
  await Promise.race([done, pump]);
}

function setup(r: Replayer): void {
  const root = document.getElementById("player")!;
  const status = root.querySelector<HTMLElement>(".player-status")!;
  const play = root.querySelector<HTMLButtonElement>(".player-play")!;
  const seek = root.querySelector<HTMLInputElement>(".player-seek")!;
  const clock = root.querySelector<HTMLElement>(".player-time")!;
  const total = () => r.getMetaData().totalTime;
  let playing = false;
  let timer = 0;
  const tick = () => {
    const all = total();
    const t = Math.min(r.getCurrentTime(), all);
    seek.max = String(all);
    seek.value = String(t);
    clock.textContent = fmt(t) + " / " + fmt(all);
  };
  const setPlaying = (on: boolean) => {
    playing = on;
    play.textContent = on ? "Pause" : "Play";
    window.clearInterval(timer);
    if (on) timer = window.setInterval(tick, 250);
  };
  play.addEventListener("click", () => {
    if (playing) r.pause();
    else r.play(r.getCurrentTime() >= total() ? 0 : r.getCurrentTime());
    setPlaying(!playing);
  });
  seek.addEventListener("input", () => {
    const t = Number(seek.value);
    if (playing) r.play(t);
    else r.pause(t);
    tick();
  });
  r.on("finish", () => {
    setPlaying(false);
    tick();
  });
  r.pause(0);
  tick();
  play.disabled = false;
  seek.disabled = false;
  root.dataset.state = "ready";
  status.textContent = "Loading…";
}

const root = document.getElementById("player");
if (root) main(root);
