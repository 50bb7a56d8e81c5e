package destination

import (
	"encoding/json"
	"testing"

	"github.com/veil-privacy/veil/internal/store"
)

// FuzzInput feeds outside JSON (the API's request body) through decoding
// and validation: it must never panic, and whatever it accepts must have a
// known kind and mode and exactly one settings block.
func FuzzInput(f *testing.F) {
	f.Add(`{"kind":"s3","s3":{"bucket":"my-bucket","endpoint":"https://s3.example.com"},"secrets":{"access_key_id":"a","secret_access_key":"b"}}`)
	f.Add(`{"kind":"sftp","mode":"do_not_store","sftp":{"host":"h","user":"u","host_key":"[h]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"},"secrets":{"password":"p"}}`)
	f.Add(`{"kind":"s3","s3":{"bucket":"b..b","prefix":"../x"},"age_recipient":"age1"}`)
	f.Fuzz(func(t *testing.T, body string) {
		var in Input
		if json.Unmarshal([]byte(body), &in) != nil {
			return
		}
		if err := in.validate(); err != nil {
			return
		}
		if (in.Kind == KindS3) == (in.S3 == nil) || (in.Kind == KindSFTP) == (in.SFTP == nil) ||
			(in.Mode != ModeCopy && in.Mode != ModeDoNotStore) {
			t.Fatalf("accepted %+v", in)
		}
		if _, err := encodeConfig(&in); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzUpdate feeds outside JSON (the PATCH body) through decoding and the
// merge onto a stored S3 and SFTP destination: it must never panic, never
// change kind or mode, and whatever it accepts must keep one settings
// block of the destination's kind and at least one credential.
func FuzzUpdate(f *testing.F) {
	f.Add(`{"s3":{"bucket":"new-bucket","prefix":"a/b"},"secrets":{"access_key_id":"a","secret_access_key":"b"},"verify":true}`)
	f.Add(`{"sftp":{"port":2222,"host_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"},"remove_secrets":["password"],"secrets":{"password":"p"}}`)
	f.Add(`{"kind":"sftp","mode":"do_not_store","age_recipient":"","remove_secrets":["session_token","x"]}`)
	hk := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	stored := []struct {
		d   store.Destination
		c   config
		sec Secrets
	}{
		{store.Destination{ID: "dst_1", Kind: KindS3, Mode: ModeCopy}, config{S3: &S3Config{Bucket: "my-bucket", Region: "us-east-1", SSE: SSENone}},
			Secrets{AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "T"}},
		{store.Destination{ID: "dst_2", Kind: KindSFTP, Mode: ModeDoNotStore}, config{SFTP: &SFTPConfig{Host: "h.example", Port: 22, User: "u", HostKey: hk}},
			Secrets{Password: "pw"}},
	}
	f.Fuzz(func(t *testing.T, body string) {
		var u Update
		if json.Unmarshal([]byte(body), &u) != nil {
			return
		}
		for _, st := range stored {
			c := st.c
			in, _, err := u.apply(&st.d, &c, st.sec)
			if err != nil {
				continue
			}
			if in.Kind != st.d.Kind || in.Mode != st.d.Mode || (in.Kind == KindS3) == (in.S3 == nil) || (in.Kind == KindSFTP) == (in.SFTP == nil) {
				t.Fatalf("accepted %+v onto %+v", in, st.d)
			}
			if in.Secrets == (Secrets{}) {
				t.Fatal("accepted an update leaving no credential")
			}
		}
	})
}
