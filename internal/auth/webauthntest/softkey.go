// Package webauthntest is a software WebAuthn authenticator for tests: it
// answers navigator.credentials.create/get options the way a browser and a
// security key would (P-256, ES256, "none" attestation), so the server's
// ceremonies can be tested without a browser.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// Key is one software security key.
type Key struct {
	priv *ecdsa.PrivateKey
	ID   []byte
	// Counter is the signature counter sent with the next assertion.
	Counter uint32
	// Origin is what the "browser" puts in clientDataJSON.
	Origin string
}

// New returns a key that answers for origin.
func New(origin string) *Key {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id := make([]byte, 32)
	rand.Read(id)
	return &Key{priv: priv, ID: id, Counter: 1, Origin: origin}
}

type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID string `json:"rpId"`
	} `json:"publicKey"`
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (k *Key) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.Origin, "crossOrigin": false})
	return b
}

func authData(rpID string, flags byte, counter uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	d := append(h[:], flags)
	d = binary.BigEndian.AppendUint32(d, counter)
	return append(d, attested...)
}

// Create answers navigator.credentials.create options (JSON) with the
// PublicKeyCredential JSON a browser would post.
func (k *Key) Create(optionsJSON []byte) ([]byte, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, err
	}
	// Uncompressed point: 0x04 || X (32 bytes) || Y (32 bytes).
	pt, err := k.priv.PublicKey.Bytes()
	if err != nil {
		return nil, err
	}
	cose, err := webauthncbor.Marshal(map[int64]any{1: int64(2), 3: int64(-7), -1: int64(1), -2: pt[1:33], -3: pt[33:65]})
	if err != nil {
		return nil, err
	}
	att := make([]byte, 16) // AAGUID
	att = binary.BigEndian.AppendUint16(att, uint16(len(k.ID)))
	att = append(att, k.ID...)
	att = append(att, cose...)
	ad := authData(o.PublicKey.RP.ID, 0x01|0x04|0x40, 0, att)
	obj, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"id": b64(k.ID), "rawId": b64(k.ID), "type": "public-key",
		"response": map[string]any{"attestationObject": b64(obj), "clientDataJSON": b64(k.clientData("webauthn.create", o.PublicKey.Challenge))}})
}

// Get answers navigator.credentials.get options (JSON) with a signed
// assertion, and advances Counter.
func (k *Key) Get(optionsJSON []byte) ([]byte, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, err
	}
	if o.PublicKey.RPID == "" {
		return nil, fmt.Errorf("no rpId in options")
	}
	ad := authData(o.PublicKey.RPID, 0x01|0x04, k.Counter, nil)
	k.Counter++
	cd := k.clientData("webauthn.get", o.PublicKey.Challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"id": b64(k.ID), "rawId": b64(k.ID), "type": "public-key",
		"response": map[string]any{"authenticatorData": b64(ad), "clientDataJSON": b64(cd), "signature": b64(sig)}})
}
