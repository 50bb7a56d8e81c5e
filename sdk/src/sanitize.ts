// Post-processing of serialized rrweb events before they leave the page.
// rrweb masks text and input values through the hooks init passes it; this
// pass covers what rrweb has no hook for (attributes, URLs, CSS, comments,
// style rules) and masks text and inputs a second time, failing closed.

import { maskStrictPII, maskText, sanitizeCSS, sanitizeSrcset, sanitizeURL, type URLPolicy } from "./mask";

export interface Policy {
  url: URLPolicy;
  /** Is this live element opted in to showing its text and data attributes? */
  unmasked(el: Element | null): boolean;
  /** Is this live input opted in to showing its value? */
  inputUnmasked(el: Element | null): boolean;
  /** The live node for a serialized id (rrweb's mirror). */
  node(id: number): Node | null;
  /** Is this node inside an iframe that must not be recorded (blocked)? */
  foreign(n: Node | null): boolean;
}

// Attributes that hold a URL: query and fragment are dropped, the path masked
// for personal data.
const urlAttrs: Record<string, 1> = {
  href: 1, src: 1, action: 1, formaction: 1, poster: 1, cite: 1, background: 1, "xlink:href": 1,
  ping: 1, longdesc: 1, manifest: 1, codebase: 1, archive: 1, itemid: 1, rr_src: 1, profile: 1, data: 1,
};

// Attributes that carry text: masked unless the element is opted in.
const textAttrs: Record<string, 1> = {
  title: 1, alt: 1, placeholder: 1, label: 1, summary: 1, abbr: 1, download: 1, datetime: 1, content: 1,
  "aria-label": 1, "aria-description": 1, "aria-valuetext": 1, "aria-placeholder": 1, "aria-roledescription": 1,
  "aria-braillelabel": 1, "aria-brailleroledescription": 1, "aria-keyshortcuts": 1, "aria-valuenow": 1,
};

// Values of inputs and friends: always masked, even in opted-in subtrees.
const valueTags: Record<string, 1> = { input: 1, textarea: 1, select: 1, option: 1 };

const keepMetaContent: Record<string, 1> = { viewport: 1, "color-scheme": 1, "theme-color": 1 };

function asElement(n: Node | null): Element | null {
  return n && n.nodeType === 1 ? (n as Element) : null;
}

function parentElementOf(n: Node | null): Element | null {
  if (!n) return null;
  return n.nodeType === 1 ? (n as Element) : n.parentElement;
}

/**
 * Sanitize the attributes of one element. tag is lower case; attrs is a
 * fresh object the caller owns. Values may be null (removed) or, for style
 * mutations, an object of property changes.
 */
function cleanAttributes(tag: string, attrs: Record<string, unknown>, el: Element | null, p: Policy, isMutation: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let open: boolean | undefined; // lazily computed: p.unmasked(el)
  const isOpen = () => (open === undefined ? (open = p.unmasked(el)) : open);
  for (const name in attrs) {
    const raw = attrs[name];
    const lname = name.toLowerCase();
    if (raw === null || raw === undefined) {
      if (isMutation) out[name] = raw; // attribute removal
      continue;
    }
    if (lname.slice(0, 2) === "on") continue; // inline handlers: never recorded, never replayed
    if (typeof raw !== "string") {
      if (lname === "style" && typeof raw === "object") {
        const diff: Record<string, unknown> = {};
        const obj = raw as Record<string, unknown>;
        for (const k in obj) {
          const v = obj[k];
          if (typeof v === "string") diff[k] = sanitizeCSS(v);
          else if (Array.isArray(v)) diff[k] = [sanitizeCSS(String(v[0])), v[1]];
          else diff[k] = v;
        }
        out[name] = diff;
      } else if (typeof raw === "number" || typeof raw === "boolean") {
        out[name] = lname === "value" ? maskText(String(raw)) : raw;
      }
      continue;
    }
    const v = raw as string;
    if (lname === "_csstext" || lname === "style") {
      out[name] = sanitizeCSS(v);
    } else if (lname === "srcset" || lname === "imagesrcset") {
      out[name] = sanitizeSrcset(v);
    } else if (urlAttrs[lname]) {
      out[name] = sanitizeURL(v, p.url);
    } else if (lname === "value") {
      out[name] = valueTags[tag] || !isOpen() ? maskText(v) : v;
    } else if (lname === "content" && tag === "meta" && keepMetaContent[String(attrs.name || "").toLowerCase()]) {
      out[name] = v;
    } else if (textAttrs[lname] || lname.slice(0, 5) === "data-") {
      out[name] = isOpen() ? maskStrictPII(v) : maskText(v);
    } else if (lname.slice(0, 3) === "rr_") {
      out[name] = v;
    } else {
      out[name] = maskStrictPII(v);
    }
  }
  if (!isMutation && typeof out.rr_width === "string") {
    // A blocked element: players draw .rr-block as a solid box of the recorded size.
    out.class = (typeof out.class === "string" && out.class ? out.class + " " : "") + "rr-block";
  }
  return out;
}

interface SNode {
  type: number;
  id?: number;
  tagName?: string;
  attributes?: Record<string, unknown>;
  childNodes?: SNode[];
  textContent?: string;
  isStyle?: boolean;
  [k: string]: unknown;
}

/** Sanitize one serialized node tree (full snapshot or added node). Returns a copy. */
function cleanNode(n: SNode, p: Policy, parentTag: string): SNode {
  const out: SNode = { ...n };
  switch (n.type) {
    case 2: {
      const tag = String(n.tagName || "").toLowerCase();
      const el = asElement(p.node(n.id as number));
      out.attributes = cleanAttributes(tag, n.attributes || {}, el, p, false);
      if (n.childNodes) out.childNodes = n.childNodes.map((c) => cleanNode(c, p, tag));
      break;
    }
    case 3: {
      const t = String(n.textContent || "");
      if (n.isStyle || parentTag === "style") out.textContent = sanitizeCSS(t);
      else if (parentTag === "script") out.textContent = "";
      else out.textContent = p.unmasked(parentElementOf(p.node(n.id as number))) ? t : maskText(t);
      break;
    }
    case 4: // CDATA
    case 5: // comment
      out.textContent = maskText(String(n.textContent || ""));
      break;
    default:
      if (n.childNodes) out.childNodes = n.childNodes.map((c) => cleanNode(c, p, ""));
  }
  return out;
}

function cleanRules<T extends { rule?: unknown }>(list: T[] | undefined): T[] | undefined {
  return list && list.map((r) => (typeof r.rule === "string" ? { ...r, rule: sanitizeCSS(r.rule) } : r));
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Sanitize one rrweb event. Returns the event to send (a copy where
 * anything changed), or null to drop it.
 */
export function sanitizeEvent(e: any, p: Policy): any {
  switch (e.type) {
    case 2: // FullSnapshot
      return { ...e, data: { ...e.data, node: cleanNode(e.data.node, p, "") } };
    case 4: // Meta
      return { ...e, data: { ...e.data, href: sanitizeURL(String(e.data.href || ""), p.url) } };
    case 3:
      return cleanIncremental(e, p);
    default:
      return e;
  }
}

function cleanIncremental(e: any, p: Policy): any {
  const d = e.data;
  // rrweb attaches and observes same-origin iframe documents even when the
  // iframe element is blocked: nothing from inside a blocked frame is kept.
  const foreign = (id: unknown) => typeof id === "number" && p.foreign(p.node(id));
  if (d.source === 0 && d.isAttachIframe && (d.adds || []).some((a: any) => foreign(a.parentId) || p.foreign(p.node(a.node && a.node.id)))) return null;
  if (d.source !== 0 && foreign(d.id)) return null;
  switch (d.source) {
    case 0: {
      // Mutation
      const adds = (d.adds || []).filter((a: any) => !foreign(a.parentId)).map((a: any) => {
        const parent = asElement(p.node(a.parentId));
        const ptag = parent ? parent.tagName.toLowerCase() : "";
        return { ...a, node: cleanNode(a.node, p, ptag) };
      });
      const texts = (d.texts || []).filter((t: any) => !foreign(t.id)).map((t: any) => {
        const node = p.node(t.id);
        const parent = parentElementOf(node);
        const ptag = parent ? parent.tagName.toLowerCase() : "";
        if (t.value === null || t.value === undefined) return t;
        if (ptag === "style") return { ...t, value: sanitizeCSS(String(t.value)) };
        return { ...t, value: p.unmasked(parent) ? t.value : maskText(String(t.value)) };
      });
      const attributes = (d.attributes || []).filter((a: any) => !foreign(a.id)).map((a: any) => {
        const el = asElement(p.node(a.id));
        const tag = el ? el.tagName.toLowerCase() : "";
        return { ...a, attributes: cleanAttributes(tag, a.attributes || {}, el, p, true) };
      });
      const removes = (d.removes || []).filter((r: any) => !foreign(r.parentId));
      if (!adds.length && !texts.length && !attributes.length && !removes.length) return null;
      return { ...e, data: { ...d, adds, texts, attributes, removes } };
    }
    case 5: {
      // Input
      if (typeof d.text !== "string") return e;
      const el = asElement(p.node(d.id));
      return p.inputUnmasked(el) ? e : { ...e, data: { ...d, text: maskText(d.text) } };
    }
    case 8: // StyleSheetRule
      return { ...e, data: { ...d, adds: cleanRules(d.adds) } };
    case 13: // StyleDeclaration
      if (d.set && typeof d.set.value === "string") return { ...e, data: { ...d, set: { ...d.set, value: sanitizeCSS(d.set.value) } } };
      return e;
    case 15: // AdoptedStyleSheet
      return {
        ...e,
        data: { ...d, styles: (d.styles || []).map((s: any) => ({ ...s, rules: cleanRules(s.rules) })) },
      };
    case 9: // CanvasMutation: never recorded
    case 10: // Font: never recorded
      return null;
    default:
      return e;
  }
}
