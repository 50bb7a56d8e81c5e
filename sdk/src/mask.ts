// Masking rules shared by the recorder post-processor, console and network
// capture. Every function here is pure and total: it never throws on odd
// input (callers still guard), and when in doubt it hides.

/** Replace every non-space character by "*": same length, same line breaks. */
export function maskText(s: string): string {
  return s.replace(/\S/g, "*");
}

function stars(m: string): string {
  return "*".repeat(m.length);
}

// Patterns of personal data and secrets in free text (console arguments,
// URL paths, attribute values, network bodies). Matches become asterisks.
const piiPatterns: RegExp[] = [
  // e-mail addresses
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
  // JSON Web Tokens
  /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  // "secret=value" shapes: password, token, api key, authorization, cookie, session
  /\b(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|auth(?:orization)?|bearer|cookie|session(?:id)?|ssn|card(?:number)?|cvc|cvv|iban)\b(["']?\s*[:=]\s*["']?|\s+)[^\s"'&,;}]+/gi,
  // long runs of digits with separators: cards, phone numbers, SSNs, accounts (6+ digits)
  /\+?\d(?:[ ()./-]{0,2}\d){5,}/g,
  // key-like tokens: 20+ characters mixing letters and digits (API keys, session ids, UUIDs)
  /\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}\b/g,
  // IBAN
  /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b/g,
];

/** Mask personal-data patterns in free text. */
export function maskPII(s: string): string {
  for (const re of piiPatterns) {
    re.lastIndex = 0;
    s = s.replace(re, stars);
  }
  return s;
}

/** Options of URL sanitising. */
export interface URLPolicy {
  allowParams: string[];
}

const safeSchemes = /^(?:https?|wss?):$/i;

/**
 * Sanitise a URL: drop the fragment and every query parameter not allowed,
 * mask personal data in the path, and reduce non-web schemes (mailto:, tel:,
 * data:, javascript:, blob:) to the scheme alone.
 */
export function sanitizeURL(raw: string, policy?: URLPolicy): string {
  if (typeof raw !== "string") return "";
  const s = raw.trim();
  if (s === "") return raw;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(s);
  if (scheme && !safeSchemes.test(scheme[0])) {
    return scheme[0];
  }
  let cut = s.length;
  const q = s.indexOf("?");
  const h = s.indexOf("#");
  if (q >= 0) cut = q;
  if (h >= 0 && h < cut) cut = h;
  let base = s.slice(0, cut);
  // Mask personal data in the path, never in the scheme and host.
  const hostEnd = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/[^/]*/.exec(base);
  const prefix = hostEnd ? hostEnd[0] : "";
  base = prefix + maskPII(base.slice(prefix.length));
  const allow = policy && policy.allowParams;
  if (q >= 0 && (h < 0 || q < h) && allow && allow.length) {
    const end = h > q ? h : s.length;
    const kept: string[] = [];
    for (const pair of s.slice(q + 1, end).split("&")) {
      const eq = pair.indexOf("=");
      let name = eq >= 0 ? pair.slice(0, eq) : pair;
      try {
        name = decodeURIComponent(name.replace(/\+/g, " "));
      } catch (_) {
        continue;
      }
      if (allow.indexOf(name) >= 0) kept.push(maskPII(pair));
    }
    if (kept.length) base += "?" + kept.join("&");
  }
  return base;
}

/** Sanitise every URL of a srcset ("a.png 1x, b.png?x=1 2x"). */
export function sanitizeSrcset(v: string): string {
  return v
    .split(",")
    .map((part) => {
      const t = part.trim().split(/\s+/);
      t[0] = sanitizeURL(t[0] || "");
      return t.join(" ");
    })
    .join(", ");
}

/**
 * Sanitise CSS text: URLs lose queries and fragments, and every string in a
 * content (or custom property) value, where generated text lives, is masked.
 */
export function sanitizeCSS(css: string): string {
  if (typeof css !== "string" || css === "") return css;
  css = css.replace(/url\(\s*(["']?)([^"')]*)\1\s*\)/gi, (_m, qt: string, u: string) => "url(" + qt + sanitizeURL(u) + qt + ")");
  css = css.replace(/(@import\s+)(["'])([^"']*)\2/gi, (_m, a: string, qt: string, u: string) => a + qt + sanitizeURL(u) + qt);
  return css.replace(/((?:^|[;{\s])(?:content|--[\w-]+|quotes)\s*:)([^;}]*)/gi, (_m, prop: string, val: string) =>
    prop + val.replace(/(["'])((?:\\.|(?!\1)[^\\])*)\1/g, (_s, qt: string, inner: string) => qt + maskText(inner) + qt),
  );
}

function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/**
 * Mask only unambiguous personal data (e-mails, JWTs, SSNs, Luhn-valid card
 * numbers): for attribute values, where broader digit rules would break
 * layout data such as SVG paths.
 */
export function maskStrictPII(s: string): string {
  s = s.replace(piiPatterns[0], stars).replace(piiPatterns[1], stars);
  s = s.replace(/\b\d{3}-\d{2}-\d{4}\b/g, stars);
  return s.replace(/\b\d(?:[ -]?\d){12,18}\b/g, (m) => (luhn(m.replace(/\D/g, "")) ? stars(m) : m));
}
