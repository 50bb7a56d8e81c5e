package scrub

// schemaKeys are rrweb's own keys and common HTML attribute names. They are
// never field names with a meaning for scrubbing (unless the rules say so,
// see compiled.schemaOverride), so the walk skips splitting them into words.
var schemaKeys = map[string]bool{}

func init() {
	for _, k := range []string{
		"type", "id", "data", "timestamp", "delay", "source", "node", "childNodes", "tagName",
		"attributes", "textContent", "isStyle", "isSVG", "needBlock", "isCustom", "rootId",
		"compatMode", "name", "publicId", "systemId", "initialOffset", "top", "left", "adds",
		"removes", "texts", "parentId", "nextId", "previousId", "isShadow", "isShadowHost",
		"isAttachIframe", "positions", "x", "y", "timeOffset", "href", "width", "height", "text",
		"isChecked", "userTriggered", "plugin", "payload", "level", "trace", "tag", "class",
		"style", "src", "rel", "lang", "dir", "role", "content", "charset", "value", "title",
		"alt", "placeholder", "action", "method", "target", "for", "hidden", "tabindex", "d",
		"fill", "stroke", "viewBox", "xmlns", "media", "crossorigin", "integrity", "async",
		"defer", "sizes", "srcset", "loading", "rr_src", "_cssText", "rr_width", "rr_height",
		"rr_dataURL", "disabled", "checked", "selected", "colspan", "rowspan", "aria-label",
		"aria-hidden", "data-testid", "pointerType", "url", "status", "startTime", "endTime",
		"initiatorType", "requests", "requestHeaders", "responseHeaders", "requestBody", "responseBody",
	} {
		schemaKeys[k] = true
	}
}

// schemaTable is an open-addressing copy of schemaKeys: a lookup costs a
// hash of three bytes and one comparison, cheaper than a Go map.
var schemaTable [512]string

func schemaHash(k []byte) int {
	return (len(k)*131 + int(k[0])*31 + int(k[len(k)-1])*7 + int(k[len(k)/2])) & 511
}

func init() {
	for k := range schemaKeys {
		h := schemaHash([]byte(k))
		for schemaTable[h] != "" {
			h = (h + 1) & 511
		}
		schemaTable[h] = k
	}
}

// schemaKey reports whether key is one of schemaKeys.
func schemaKey(key []byte) bool {
	if len(key) == 0 || len(key) > 16 {
		return false
	}
	for h := schemaHash(key); schemaTable[h] != ""; h = (h + 1) & 511 {
		if schemaTable[h] == string(key) {
			return true
		}
	}
	return false
}
