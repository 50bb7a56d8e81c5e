package ingest

import (
	"net/http"
	"strconv"

	"github.com/veil-privacy/veil"
)

// SDKConfigMaxAge is how long browsers may reuse a config answer.
const SDKConfigMaxAge = 60

// SDKConfig is the answer of GET /v1/sdk/config: the project's masking
// defaults and the settings version. It holds no secret.
type SDKConfig struct {
	Version int64 `json:"version"`
	veil.SDKSettings
}

// handleSDKConfig handles "GET /v1/sdk/config?key=veil_wk_…": the browser
// SDK fetches its project's masking defaults at start. The key and origin
// are checked as for uploads (a browser key needs an allowed Origin or
// Referer), CORS headers go to allowed origins only, and the answer may be
// cached for SDKConfigMaxAge seconds. The SDK only ever becomes more
// private from it (docs/sdk.md).
func (h *Handler) handleSDKConfig(w http.ResponseWriter, r *http.Request) {
	if ok, wait := h.byIP.allow(clientIP(r)); !ok {
		h.fail(w, r, nil, rateLimited(wait))
		return
	}
	p, err := h.authenticate(r.Context(), r, "")
	if err == nil {
		err = h.allowKey(p)
	}
	cfg := SDKConfig{SDKSettings: veil.DefaultSDKSettings()}
	if err == nil && h.opts.Settings != nil {
		st, gerr := h.opts.Settings.Get(r.Context(), p.project.id)
		if gerr != nil {
			err = gerr
		} else {
			cfg = SDKConfig{Version: st.Version, SDKSettings: st.SDK}
		}
	}
	if err != nil {
		w.Header().Set("Cache-Control", "no-store")
		h.fail(w, r, p, err)
		return
	}
	h.cors(w, r, p)
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(SDKConfigMaxAge))
	writeJSON(w, http.StatusOK, cfg)
}
