// Package sdk holds Veil's browser SDK: the TypeScript source (src/), its
// committed build (dist/, embedded here so `go build` never needs npm) and
// the HTTP handler that serves it under /sdk/.
//
// Rebuild with `make sdk` (npm ci + node build.mjs); `make test` checks
// that the committed dist/ is what the lock file builds.
package sdk

import (
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

//go:embed dist/veil.js dist/veil.mjs dist/VERSION
var dist embed.FS

var (
	script  = mustRead("dist/veil.js")
	module  = mustRead("dist/veil.mjs")
	version = strings.TrimSpace(string(mustRead("dist/VERSION")))
)

func mustRead(name string) []byte {
	b, err := dist.ReadFile(name)
	if err != nil {
		panic("sdk: embedded " + name + " missing: " + err.Error())
	}
	return b
}

// Version is the SDK version (package.json), also in the immutable URL
// /sdk/veil-<Version>.js.
func Version() string { return version }

// Script returns the script-tag bundle (dist/veil.js). Do not modify it.
func Script() []byte { return script }

// Module returns the ES module bundle (dist/veil.mjs). Do not modify it.
func Module() []byte { return module }

// Integrity returns the Subresource Integrity value of the script bundle
// ("sha384-…").
func Integrity() string { return sri(script) }

func sri(b []byte) string {
	sum := sha512.Sum384(b)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}
