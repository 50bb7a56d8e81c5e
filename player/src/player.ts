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
  const play = root.querySelector<HTMLButtonElement>(".player-play")!;
  const seek = root.querySelector<HTMLInputElement>(".player-seek")!;
  const clock = root.querySelector<HTMLElement>(".player-time")!;
  const set = (s: State, msg: string) => {
    root.dataset.state = s;
    status.textContent = msg;
  };
  const t0 = performance.now();
  let events: any[];
  try {
    const resp = await fetch(root.dataset.src!, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    events = await resp.json();
  } catch (e) {
    set("error", "The recording could not be loaded.");
    return;
  }
  if (!Array.isArray(events) || events.length < 2) {
    set("empty", "This session has no replayable recording.");
    return;
  }
  const r = new Replayer(events, {
    root: stage,
    mouseTail: false,
    triggerFocus: false,
    showWarning: false,
    UNSAFE_replayCanvas: false,
    pauseAnimation: true,
    insertStyleRules: [".rr-block, .veil-block { background: #c8c8c8 !important; }"],
  });
  r.on("fullsnapshot-rebuilded", () => {
    if (!root.dataset.firstFrameMs) root.dataset.firstFrameMs = String(Math.round(performance.now() - t0));
  });
  const meta = r.getMetaData();
  seek.max = String(meta.totalTime);
  let playing = false;
  let timer = 0;
  const tick = () => {
    const t = Math.min(r.getCurrentTime(), meta.totalTime);
    seek.value = String(t);
    clock.textContent = fmt(t) + " / " + fmt(meta.totalTime);
  };
  const setPlaying = (on: boolean) => {
    playing = on;
    play.textContent = on ? "Pause" : "Play";
    window.clearInterval(timer);
    if (on) timer = window.setInterval(tick, 250);
  };
  play.addEventListener("click", () => {
    if (playing) r.pause();
    else r.play(r.getCurrentTime() >= meta.totalTime ? 0 : r.getCurrentTime());
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
  set("ready", events.length + " events");
}

const root = document.getElementById("player");
if (root) main(root);
