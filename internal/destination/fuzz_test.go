package destination

import (
	"encoding/json"
	"testing"
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
