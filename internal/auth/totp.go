package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/keyring"
)

// MFAStore is the storage TOTP second factors need.
type MFAStore interface {
	FindMFA(ctx context.Context, userID string) (*veil.MFA, error)
	PutPendingMFA(ctx context.Context, userID, secret string) error
	UseTOTPStep(ctx context.Context, userID string, step int64, recoveryHashes [][]byte) error
	UseRecoveryCode(ctx context.Context, userID string, hash []byte) error
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)
	DeleteMFA(ctx context.Context, userID string) error
	AddLoginFailure(ctx context.Context, key string, window time.Duration, lock func(failures int) time.Duration) (*veil.LoginThrottle, error)
	FindLoginThrottle(ctx context.Context, key string) (*veil.LoginThrottle, error)
	ClearLoginThrottle(ctx context.Context, key string) error
}

// TOTP parameters (RFC 6238 defaults, which every authenticator app
// supports): SHA-1, 6 digits, 30-second steps, ±1 step of clock skew.
const (
	totpPeriod        = 30
	totpSkew          = 1
	RecoveryCodeCount = 10
)

// MFA manages TOTP second factors and recovery codes. TOTP secrets are
// stored sealed with Key (AES-256-GCM, bound to the user id); recovery codes
// only as SHA-256 hashes (they carry 50 random bits and are rate-limited).
// A code is accepted at most once: the last accepted time step is stored
// and an older or equal step is refused. Five wrong codes lock the second
// step for a few minutes.
type MFA struct {
	Store  MFAStore
	Key    *keyring.DataKey
	Issuer string           // shown in authenticator apps; "" = "Veil"
	Now    func() time.Time // nil: time.Now
}

func (m *MFA) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func secretAAD(userID string) keyring.AAD {
	return keyring.AAD{Kind: "totp-secret", ID: userID}
}

// Begin starts (or restarts) enrolment for u with a new secret and
// returns the otpauth:// URL (also as a QR code via QRCode) and the secret
// for manual entry. Until Confirm, the factor is not enabled.
func (m *MFA) Begin(ctx context.Context, u *veil.User) (url, secret string, err error) {
	issuer := m.Issuer
	if issuer == "" {
		issuer = "Veil"
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Email, SecretSize: 20})
	if err != nil {
		return "", "", fmt.Errorf("generate totp secret: %w", err)
	}
	sealed, err := m.Key.Seal([]byte(key.URL()), secretAAD(u.ID))
	if err != nil {
		return "", "", err
	}
	if err := m.Store.PutPendingMFA(ctx, u.ID, base64.StdEncoding.EncodeToString(sealed)); err != nil {
		return "", "", err
	}
	return key.URL(), key.Secret(), nil
}

// key opens the user's stored TOTP key.
func (m *MFA) key(ctx context.Context, userID string) (*veil.MFA, *otp.Key, error) {
	st, err := m.Store.FindMFA(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	sealed, err := base64.StdEncoding.DecodeString(st.Secret)
	if err != nil {
		return nil, nil, fmt.Errorf("decode totp secret of %s: %w", userID, err)
	}
	url, err := m.Key.Open(sealed, secretAAD(userID))
	if err != nil {
		return nil, nil, fmt.Errorf("open totp secret of %s: %w", userID, err)
	}
	k, err := otp.NewKeyFromURL(string(url))
	return st, k, err
}

// QRCode returns a PNG QR code of the pending enrolment's otpauth:// URL.
func (m *MFA) QRCode(ctx context.Context, userID string) ([]byte, error) {
	st, k, err := m.key(ctx, userID)
	if err != nil {
		return nil, err
	}
	if st.Enabled {
		return nil, veil.Errorf(veil.ENOTFOUND, "No enrolment in progress.")
	}
	img, err := k.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Enabled reports whether userID has a confirmed second factor.
func (m *MFA) Enabled(ctx context.Context, userID string) (bool, error) {
	st, err := m.Store.FindMFA(ctx, userID)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return false, nil
	}
	return err == nil && st.Enabled, err
}

var errBadCode = veil.Errorf(veil.EUNAUTHORIZED, "The code is not valid.")

// Confirm enables a pending enrolment with a current code and returns new
// recovery codes, shown once.
func (m *MFA) Confirm(ctx context.Context, userID, code string) ([]string, error) {
	st, k, err := m.key(ctx, userID)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return nil, veil.Errorf(veil.EINVALID, "Start the set-up first.")
	} else if err != nil {
		return nil, err
	}
	if st.Enabled {
		return nil, veil.Errorf(veil.ECONFLICT, "Two-factor authentication is already enabled.")
	}
	if err := m.throttled(ctx, userID); err != nil {
		return nil, err
	}
	step, ok := m.match(k, code)
	if !ok {
		return nil, m.fail(ctx, userID)
	}
	codes, hashes := newRecoveryCodes()
	if err := m.Store.UseTOTPStep(ctx, userID, step, hashes); err != nil {
		return nil, err
	}
	return codes, m.Store.ClearLoginThrottle(ctx, "mfa:"+userID)
}

// Verify checks a second-factor code of an enabled factor: a TOTP code, or
// else an unused recovery code (which is then used up; recovery reports
// that). A replayed code is refused.
func (m *MFA) Verify(ctx context.Context, userID, code string) (recovery bool, err error) {
	if err := m.throttled(ctx, userID); err != nil {
		return false, err
	}
	st, k, err := m.key(ctx, userID)
	if err != nil {
		return false, err
	}
	if !st.Enabled {
		return false, veil.Errorf(veil.EINVALID, "Two-factor authentication is not enabled.")
	}
	code = strings.TrimSpace(code)
	if step, ok := m.match(k, code); ok {
		if err := m.Store.UseTOTPStep(ctx, userID, step, nil); err != nil {
			if veil.ErrorCode(err) == veil.ECONFLICT {
				return false, m.fail(ctx, userID)
			}
			return false, err
		}
		return false, m.Store.ClearLoginThrottle(ctx, "mfa:"+userID)
	}
	if norm := normalizeRecovery(code); len(norm) == 10 {
		err := m.Store.UseRecoveryCode(ctx, userID, HashSecret(norm))
		if err == nil {
			return true, m.Store.ClearLoginThrottle(ctx, "mfa:"+userID)
		} else if veil.ErrorCode(err) != veil.ENOTFOUND {
			return false, err
		}
	}
	return false, m.fail(ctx, userID)
}

// RecoveryCodesLeft returns how many unused recovery codes userID has.
func (m *MFA) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	return m.Store.CountRecoveryCodes(ctx, userID)
}

// Disable removes userID's second factor and recovery codes.
func (m *MFA) Disable(ctx context.Context, userID string) error {
	return m.Store.DeleteMFA(ctx, userID)
}

// match returns the time step whose code is code, within ±totpSkew steps,
// comparing in constant time.
func (m *MFA) match(k *otp.Key, code string) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	now := m.now().Unix() / totpPeriod
	found, step := 0, int64(0)
	for s := now - totpSkew; s <= now+totpSkew; s++ {
		want, err := totp.GenerateCodeCustom(k.Secret(), time.Unix(s*totpPeriod, 0),
			totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, step = 1, s
		}
	}
	return step, found == 1
}

func (m *MFA) throttled(ctx context.Context, userID string) error {
	th, err := m.Store.FindLoginThrottle(ctx, "mfa:"+userID)
	if err != nil {
		return err
	}
	if wait := th.LockedUntil.Sub(m.now()); wait > 0 {
		return &ThrottledError{RetryAfter: wait, Scope: "mfa"}
	}
	return nil
}

func (m *MFA) fail(ctx context.Context, userID string) error {
	if _, err := m.Store.AddLoginFailure(ctx, "mfa:"+userID, ThrottleWindow, lockPairFor); err != nil {
		return err
	}
	return errBadCode
}

// newRecoveryCodes returns codes formatted xxxxx-xxxxx and their hashes.
func newRecoveryCodes() ([]string, [][]byte) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, 7)
		rand.Read(b)
		s := b32.EncodeToString(b)[:10]
		codes[i] = s[:5] + "-" + s[5:]
		hashes[i] = HashSecret(s)
	}
	return codes, hashes
}

func normalizeRecovery(code string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
}
