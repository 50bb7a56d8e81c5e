// Entry of dist/veil.js (script tag): defines window.veil once and
// initialises from the script tag's data attributes.
import api, { autoInit } from "./index";

const w = window as Window & { veil?: unknown };
if (!w.veil) {
  w.veil = api;
  autoInit(document.currentScript as HTMLScriptElement | null);
}
