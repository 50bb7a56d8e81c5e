package destination_test

import (
	"context"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/destination"
)

const testHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test"

func TestCreate_Validation(t *testing.T) {
	s3 := func(f func(in *destination.Input)) destination.Input {
		in := destination.Input{Kind: "s3", S3: &destination.S3Config{Bucket: "my-bucket"},
			Secrets: destination.Secrets{AccessKeyID: "AK", SecretAccessKey: "SK"}}
		f(&in)
		return in
	}
	sftp := func(f func(in *destination.Input)) destination.Input {
		in := destination.Input{Kind: "sftp", SFTP: &destination.SFTPConfig{Host: "files.example.com", User: "veil", HostKey: testHostKey},
			Secrets: destination.Secrets{Password: "pw"}}
		f(&in)
		return in
	}
	tests := []struct {
		name string
		in   destination.Input
		want string // "" = valid; else part of the message
	}{
		{"s3 ok", s3(func(*destination.Input) {}), ""},
		{"sftp ok", sftp(func(*destination.Input) {}), ""},
		{"s3 kms", s3(func(in *destination.Input) { in.S3.SSE, in.S3.KMSKeyID = "aws:kms", "arn:aws:kms:k" }), ""},
		{"unknown kind", destination.Input{Kind: "ftp"}, "Kind must be"},
		{"bad mode", s3(func(in *destination.Input) { in.Mode = "move" }), "Mode must be"},
		{"bad bucket", s3(func(in *destination.Input) { in.S3.Bucket = "My_Bucket" }), "Bucket"},
		{"dotdot prefix", s3(func(in *destination.Input) { in.S3.Prefix = "a/../b" }), "Prefix"},
		{"bad sse", s3(func(in *destination.Input) { in.S3.SSE = "rot13" }), "SSE must be"},
		{"kms key without kms", s3(func(in *destination.Input) { in.S3.KMSKeyID = "k" }), "KMS key id"},
		{"endpoint with credentials", s3(func(in *destination.Input) { in.S3.Endpoint = "https://u:p@s3.example.com" }), "Endpoint"},
		{"endpoint scheme", s3(func(in *destination.Input) { in.S3.Endpoint = "ftp://s3.example.com" }), "Endpoint"},
		{"s3 without secret", s3(func(in *destination.Input) { in.Secrets.SecretAccessKey = "" }), "secret access key"},
		{"s3 with sftp settings", s3(func(in *destination.Input) { in.SFTP = &destination.SFTPConfig{} }), "s3 settings only"},
		{"bad age recipient", s3(func(in *destination.Input) { in.AgeRecipient = "age1nope" }), "Age recipient"},
		{"sftp without host key", sftp(func(in *destination.Input) { in.SFTP.HostKey = "" }), "Host key required"},
		{"sftp garbage host key", sftp(func(in *destination.Input) { in.SFTP.HostKey = "ssh-ed25519 nope" }), "Host key must be"},
		{"sftp without credentials", sftp(func(in *destination.Input) { in.Secrets.Password = "" }), "private key or a password"},
		{"sftp bad private key", sftp(func(in *destination.Input) { in.Secrets.PrivateKey = "-----BEGIN nothing" }), "Private key"},
		{"sftp bad port", sftp(func(in *destination.Input) { in.SFTP.Port = 70000 }), "Port"},
		{"sftp host with user", sftp(func(in *destination.Input) { in.SFTP.Host = "root@x" }), "Host must be"},
		{"sftp dotdot dir", sftp(func(in *destination.Input) { in.SFTP.Dir = "/srv/../etc" }), "Dir"},
		{"long name", s3(func(in *destination.Input) { in.Name = strings.Repeat("n", 101) }), "Name"},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := e.svc.Create(context.Background(), e.project.ProjectID, tt.in)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				if len(v.SealedSecret) == 0 {
					t.Fatal("secrets not stored")
				}
				return
			}
			if veil.ErrorCode(err) != veil.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
	// Secrets are stored sealed, never in clear.
	in := s3(func(in *destination.Input) { in.Secrets.SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET" })
	v, err := e.svc.Create(context.Background(), e.project.ProjectID, in)
	if err != nil {
		t.Fatal(err)
	}
	if files := filesContaining(t, e.dir, "bPxRfiCYSECRET"); len(files) > 0 {
		t.Fatalf("secret in clear in %v", files)
	}
	if _, err := e.svc.Find(context.Background(), "prj_other", v.ID); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("another project's view of the destination: %v", err)
	}
	// Another project lists nothing.
	other, err := e.svc.List(context.Background(), "prj_other")
	if err != nil || len(other) != 0 {
		t.Fatalf("other project: %v %v", other, err)
	}
}
