// Package keyring is Veil's envelope encryption: the master key, project
// data keys, session keys, sealing of stored objects and blind indexes.
//
// # Crypto summary
//
// Keys. All keys are 32 random bytes (crypto/rand).
//
//	master key M   from --master-key-file or VEIL_MASTER_KEY (base64 or hex text);
//	               Veil never stores it anywhere else.
//	data key D     one per project, stored only wrapped by M.
//	session key S  one per session, a DataKey too, stored only wrapped by its
//	               project's D. Destroying a wrapped key crypto-shreds
//	               everything sealed with it.
//
// Subkeys. A raw key K is never used directly: each use derives its own
// key with HKDF-SHA256(secret=K, salt=none, info=label), labels
// "veil/v1/wrap", "veil/v1/seal", "veil/v1/blind-index" and "veil/v1/key-id".
// So the bytes that encrypt never also authenticate an index.
//
// Key IDs. ID(K) is the first 8 bytes of the "veil/v1/key-id" subkey, in hex:
// safe to log and store, it tells which key wrapped a key without revealing
// anything about the key.
//
// Binding. The caller's AAD{Org, Project, Kind, ID} says where a ciphertext
// belongs. It is encoded without ambiguity ("veil.aad.v1" followed by the
// four fields, each prefixed by its uvarint length) and authenticated as
// GCM associated data together with the format header, so a ciphertext
// moved to another tenant, project, kind or ID fails to open.
//
// Formats (|| is concatenation, AES-256-GCM with a random 96-bit nonce):
//
//	wrapped key  = 0x01 || kind || ID(wrapper) || nonce || GCM(wrapkey, S or D, ad = 0x01 || kind || ID || enc(aad))
//	               kind is 'M' (wrapped by a master key) or 'D' (by a data key); 70 bytes.
//	sealed object = v || nonce || GCM(sealkey, codec(plaintext), ad = v || enc(aad))
//	               v names the codec: 0x01 zstd (Seal, SealFast), 0x02 S2 block
//	               format (SealS2: cheapest to write, larger). Open reads both.
//	blind index  = hex(HMAC-SHA256(indexkey, uvarint(len(kind)) || kind || value)[:16])
//
// Compression happens before encryption (ciphertext does not compress) and
// decompression only after authentication; it is also capped (MaxPlaintext,
// or OpenLimit's limit), so even a validly sealed hostile object cannot
// exhaust memory.
//
// Limits. With random 96-bit nonces, one key should seal at most 2^32
// objects (NIST SP 800-38D); per-session keys keep every key far below
// that. Rotating the master key rewraps data keys (Rewrap); it never
// re-encrypts data.
//
// Secrets never leave this package in errors or logs: Master and DataKey
// format as "[redacted]" under every fmt verb and slog, errors carry key IDs
// only, and key material is only exported by Master.Export on purpose.
package keyring
