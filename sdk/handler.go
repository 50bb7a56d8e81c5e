package sdk

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Paths served by Handler, relative to the server root.
const (
	// LatestPath always serves the current SDK, cached for a few minutes.
	LatestPath = "/sdk/veil.js"
	// ModulePath is the ES module build, for <script type="module">.
	ModulePath = "/sdk/veil.mjs"
)

// VersionedPath is the immutable URL of this version's script bundle.
func VersionedPath() string { return "/sdk/veil-" + version + ".js" }

// Handler serves the SDK; mount it as "GET /sdk/":
//
//	GET /sdk/veil.js             current bundle, Cache-Control max-age=300
//	GET /sdk/veil-<version>.js   immutable, cached for a year
//	GET /sdk/veil.mjs, /sdk/veil-<version>.mjs   the ES module build, same rules
//	GET /sdk/                    install page: the snippet with its SRI hash
//	GET /sdk/demo?key=veil_wk_…  a page that records itself with that key
//
// Scripts are sent with Access-Control-Allow-Origin: * (integrity checks on
// a cross-origin script need CORS) and Cross-Origin-Resource-Policy:
// cross-origin, so sites with COEP can load them.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sdk/{$}", servePage(installTmpl))
	mux.HandleFunc("GET /sdk/demo", servePage(demoTmpl))
	mux.HandleFunc("GET /sdk/demo.js", func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, []byte(demoJS), "no-cache")
	})
	mux.HandleFunc("GET /sdk/{file}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("file") {
		case "veil.js":
			serveAsset(w, r, script, "public, max-age=300")
		case "veil.mjs":
			serveAsset(w, r, module, "public, max-age=300")
		case "veil-" + version + ".js":
			serveAsset(w, r, script, "public, max-age=31536000, immutable")
		case "veil-" + version + ".mjs":
			serveAsset(w, r, module, "public, max-age=31536000, immutable")
		default:
			http.Error(w, "404 page not found", http.StatusNotFound)
		}
	})
	return mux
}

var modTime = time.Unix(0, 0)

func serveAsset(w http.ResponseWriter, r *http.Request, b []byte, cache string) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", cache)
	h.Set("ETag", etag(b))
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	http.ServeContent(w, r, "", modTime, bytes.NewReader(b))
}

// pageData is what the install and demo pages show.
type pageData struct {
	Version, Integrity, Versioned, Origin, Key string
	Snippet                                    string
}

func servePage(t *template.Template) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		origin := requestBase(r)
		key := r.URL.Query().Get("key")
		if !validKey(key) {
			key = ""
		}
		d := pageData{Version: version, Integrity: Integrity(), Versioned: VersionedPath(), Origin: origin, Key: key}
		d.Snippet = Snippet(origin, key)
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		// The demo is the strict CSP a site needs: no inline script, no eval.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		var buf bytes.Buffer
		if err := t.Execute(&buf, d); err != nil {
			http.Error(w, "template error", http.StatusInternalServerError)
			return
		}
		w.Write(buf.Bytes())
	}
}

// Snippet returns the copy-paste install tag for a server at base (e.g.
// "https://veil.example.com") and a browser key.
func Snippet(base, key string) string {
	if key == "" {
		key = "veil_wk_YOUR_BROWSER_KEY"
	}
	base = strings.TrimRight(base, "/")
	return `<script src="` + base + VersionedPath() + `" integrity="` + Integrity() + `" crossorigin="anonymous" data-key="` + template.HTMLEscapeString(key) + `" defer></script>`
}

func validKey(k string) bool {
	if !strings.HasPrefix(k, "veil_wk_") || len(k) > 200 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// requestBase is the scheme://host this request reached.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host}
	return u.String()
}

var installTmpl = template.Must(template.New("install").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Veil browser SDK {{.Version}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Veil browser SDK {{.Version}}</h1>
<p>Paste this tag into every page, before <code>&lt;/head&gt;</code>, with your project's browser key
(<code>veil_wk_…</code>; the page's origin must be on the key's allowed list):</p>
<pre>{{.Snippet}}</pre>
<p>Subresource Integrity: <code>{{.Integrity}}</code><br>
Immutable URL: <code>{{.Origin}}{{.Versioned}}</code> (cached for a year); latest: <code>{{.Origin}}/sdk/veil.js</code>.</p>
<p>Content-Security-Policy entries your site needs:
<code>script-src {{.Origin}}; connect-src {{.Origin}}</code>. No inline script, no eval.</p>
<p>Everything is masked unless you opt elements in (<code>class="veil-unmask"</code>). See docs/sdk.md for options,
masking rules and consent.</p>
{{if .Key}}<p><a href="/sdk/demo?key={{.Key}}">Open a page that records itself with this key</a>.</p>{{end}}
</body></html>
`))

var demoTmpl = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Veil demo page</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Key}}<script src="{{.Versioned}}" integrity="{{.Integrity}}" crossorigin="anonymous" data-key="{{.Key}}" defer></script>
<script src="/sdk/demo.js" defer></script>{{end}}
</head>
<body>
<h1 class="veil-unmask">Veil demo: this page records itself</h1>
{{if .Key}}<p class="veil-unmask">Type into the form and click around; then look for the session in Veil.
Session id: <code id="sid">(starting…)</code></p>{{else}}<p class="veil-unmask">Add <code>?key=veil_wk_…</code> (a browser key that allows {{.Origin}}) to the address.</p>{{end}}
<p>This paragraph is masked in the recording: every character becomes an asterisk.</p>
<form id="f">
<label>E-mail <input type="email" name="email" placeholder="jane@example.com"></label><br>
<label>Card <input type="text" name="card" autocomplete="cc-number"></label><br>
<label>Notes <textarea name="notes"></textarea></label><br>
<button type="button" id="track">Send a track() call</button>
</form>
<p class="veil-unmask"><button type="button" id="flush">Flush now</button> <span id="status"></span></p>
</body></html>
`))

const demoJS = `(function () {
  function $(id) { return document.getElementById(id); }
  function show() {
    if (!window.veil) return;
    var s = window.veil.status();
    $("sid").textContent = s.sessionId || "(not recording: " + s.reason + ")";
    $("status").textContent = "sent " + s.sent + ", queued " + s.queued + ", dropped " + s.dropped;
  }
  document.addEventListener("DOMContentLoaded", function () {
    $("track").addEventListener("click", function () { window.veil && window.veil.track("Demo Button Clicked", { plan: "demo" }); });
    $("flush").addEventListener("click", function () { window.veil && window.veil.flush().then(show); });
    setInterval(show, 1000);
    show();
  });
})();
`
