package veil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// ProjectSettings are a project's stored privacy settings: its scrubbing
// rules and the masking defaults pushed to the browser SDK. Both are kept
// as JSON; Version grows by one on every change, so a cache can check it
// cheaply.
type ProjectSettings struct {
	ProjectID string
	// ScrubRules is a scrub.Rules as JSON ("" when none were saved: the
	// built-in rules apply).
	ScrubRules string
	// SDK is an SDKSettings as JSON ("" when none were saved: defaults).
	SDK       string
	Version   int64
	UpdatedAt time.Time // zero when nothing was saved
}

// SDK capture levels in SDKSettings.Console and SDKSettings.Network.
const (
	CapturePage   = "page"   // as the page's own options say
	CaptureErrors = "errors" // failures only
	CaptureOff    = "off"    // nothing
)

// SDKSettings are a project's masking defaults, served to the browser SDK
// by GET /v1/sdk/config. Every field can only make the SDK MORE private
// than the page's own options: the SDK takes, setting by setting, the more
// private of the two (docs/sdk.md, "Server settings"). The defaults change
// nothing.
type SDKSettings struct {
	// Replay false: no session replay is recorded (tracking continues).
	Replay bool `json:"replay"`
	// SampleRate caps the page's sampleRate (0..1).
	SampleRate float64 `json:"sample_rate"`
	// MaskAllText masks all text, ignoring veil-unmask and unmaskSelector.
	MaskAllText bool `json:"mask_all_text"`
	// MaskAllInputs masks every input value, ignoring unmaskInputSelector.
	MaskAllInputs bool `json:"mask_all_inputs"`
	// BlockMedia blocks iframes even when the page sets recordIframes
	// (images, video, audio, canvas and embeds are always blocked).
	BlockMedia bool `json:"block_media"`
	// Console caps console capture: "page", "errors" (error level only) or "off".
	Console string `json:"console"`
	// Network caps fetch/XHR capture: "page" (method, URL without query,
	// status, duration), "errors" (failed requests only) or "off".
	Network string `json:"network"`
	// NetworkDetails false: no request/response headers or bodies, even
	// for the URLs and header names the page lists.
	NetworkDetails bool `json:"network_details"`
	// QueryParams false: recorded URLs keep no query parameter, even those
	// the page lists in allowQueryParams.
	QueryParams bool `json:"query_params"`
}

// DefaultSDKSettings leave the page's options as they are.
func DefaultSDKSettings() SDKSettings {
	return SDKSettings{Replay: true, SampleRate: 1, Console: CapturePage, Network: CapturePage, NetworkDetails: true, QueryParams: true}
}

// Validate checks s and names the wrong field.
func (s SDKSettings) Validate() error {
	if math.IsNaN(s.SampleRate) || s.SampleRate < 0 || s.SampleRate > 1 {
		return Errorf(EINVALID, "sample_rate must be between 0 and 1.")
	}
	for _, f := range []struct{ name, v string }{{"console", s.Console}, {"network", s.Network}} {
		switch f.v {
		case CapturePage, CaptureErrors, CaptureOff:
		default:
			return Errorf(EINVALID, "%s must be %q, %q or %q, not %q.", f.name, CapturePage, CaptureErrors, CaptureOff, f.v)
		}
	}
	return nil
}

// ParseSDKSettings decodes stored or posted settings; fields left out keep
// their defaults. Unknown fields are an error.
func ParseSDKSettings(b []byte) (SDKSettings, error) {
	s := DefaultSDKSettings()
	if len(b) == 0 {
		return s, nil
	}
	if err := strictJSON(b, &s); err != nil {
		return s, Errorf(EINVALID, "SDK settings: %s", err.Error())
	}
	return s, s.Validate()
}

// strictJSON decodes one JSON value into v, refusing unknown fields and
// trailing data.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON object")
	}
	return nil
}
