// The project's masking defaults, fetched from GET /v1/sdk/config when the
// SDK starts. They can only make the SDK more private than the page's own
// options (see applyServerConfig in index.ts and docs/sdk.md).

/** The answer of GET /v1/sdk/config (snake_case, as the server sends it). */
export interface ServerConfig {
  version?: number;
  replay?: unknown;
  sample_rate?: unknown;
  mask_all_text?: unknown;
  mask_all_inputs?: unknown;
  block_media?: unknown;
  console?: unknown;
  network?: unknown;
  network_details?: unknown;
  query_params?: unknown;
}

export const CONFIG_TIMEOUT = 5000;

/**
 * Fetches the config. Resolves with it, with null when the server has no
 * config endpoint (404: an older server, the page's options apply), and
 * rejects on anything else (network error, timeout, refusal, bad JSON).
 */
export function fetchConfig(host: string, key: string, timeoutMs: number): Promise<ServerConfig | null> {
  const url = host + "/v1/sdk/config?key=" + encodeURIComponent(key);
  const ctl = typeof AbortController !== "undefined" ? new AbortController() : null;
  return new Promise<ServerConfig | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (ctl) ctl.abort();
      reject(new Error("timeout"));
    }, timeoutMs);
    // referrerPolicy "origin": a same-origin GET carries no Origin header,
    // and the server checks the key's allowed origins against the Referer
    // then; send it even under a page's no-referrer policy, origin only.
    fetch(url, { method: "GET", credentials: "omit", mode: "cors", referrerPolicy: "origin", signal: ctl ? ctl.signal : undefined })
      .then((r) => {
        if (r.status === 404) return null;
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(
        (v: unknown) => {
          clearTimeout(timer);
          if (v !== null && (typeof v !== "object" || Array.isArray(v))) reject(new Error("bad config"));
          else resolve(v as ServerConfig | null);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
  });
}
