package destination_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/testenv"
)

func ptr[T any](v T) *T { return &v }

// TestUpdate_Validation: edits get Create's validation and host checks,
// kind and mode are refused with the way out, another project's id is not
// found, and Changed names exactly what changed.
func TestUpdate_Validation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pid := e.project.ProjectID
	s3d, err := e.svc.Create(ctx, pid, destination.Input{Kind: "s3", S3: &destination.S3Config{Bucket: "my-bucket", Endpoint: "https://s3.example.com"},
		Secrets: destination.Secrets{AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "TOK"}})
	if err != nil {
		t.Fatal(err)
	}
	sftpd, err := e.svc.Create(ctx, pid, destination.Input{Kind: "sftp", SFTP: &destination.SFTPConfig{Host: "files.example.com",
		User: "veil", HostKey: testHostKey}, Secrets: destination.Secrets{Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.AllowPrivate = false // as in production: the SSRF check applies to edits
	tests := []struct {
		name    string
		project string
		id      string
		u       destination.Update
		code    string   // "" = saved
		msg     string   // part of the message
		changed []string // when saved
	}{
		{"kind", pid, s3d.ID, destination.Update{Kind: "sftp"}, veil.EINVALID, "kind of a destination cannot be changed", nil},
		{"mode", pid, s3d.ID, destination.Update{Mode: "do_not_store"}, veil.EINVALID, "add a new destination", nil},
		{"same kind and mode", pid, s3d.ID, destination.Update{Kind: "s3", Mode: "copy"}, "", "", []string{}},
		{"sftp settings on s3", pid, s3d.ID, destination.Update{SFTP: &destination.SFTPUpdate{Host: ptr("x")}}, veil.EINVALID, "only its s3 settings", nil},
		{"bad bucket", pid, s3d.ID, destination.Update{S3: &destination.S3Update{Bucket: ptr("Bad_Bucket")}}, veil.EINVALID, "Bucket", nil},
		{"private endpoint", pid, s3d.ID, destination.Update{S3: &destination.S3Update{Endpoint: ptr("http://10.1.2.3:9000")}}, veil.EINVALID, "VEIL_DESTINATION_ALLOW_PRIVATE", nil},
		{"key id without secret", pid, s3d.ID, destination.Update{Secrets: destination.Secrets{AccessKeyID: "AK2"}}, veil.EINVALID, "needs its secret access key", nil},
		{"unknown removal", pid, s3d.ID, destination.Update{RemoveSecrets: []string{"secret_access_key"}}, veil.EINVALID, "remove_secrets takes", nil},
		{"bad age", pid, s3d.ID, destination.Update{AgeRecipient: ptr("age1nope")}, veil.EINVALID, "Age recipient", nil},
		{"other project", "prj_other", s3d.ID, destination.Update{Name: ptr("x")}, veil.ENOTFOUND, "", nil},
		{"other project's id", pid, "dst_missing", destination.Update{Name: ptr("x")}, veil.ENOTFOUND, "", nil},
		{"rename", pid, s3d.ID, destination.Update{Name: ptr(" lake ")}, "", "", []string{"name"}},
		{"secret only", pid, s3d.ID, destination.Update{Secrets: destination.Secrets{SecretAccessKey: "SK2"}}, "", "", []string{"secrets.secret_access_key"}},
		// A new key pair drops the old pair's session token.
		{"new key pair", pid, s3d.ID, destination.Update{Secrets: destination.Secrets{AccessKeyID: "AK3", SecretAccessKey: "SK3"}}, "", "",
			[]string{"secrets.access_key_id", "secrets.secret_access_key", "secrets.session_token"}},
		{"bucket and region", pid, s3d.ID, destination.Update{S3: &destination.S3Update{Bucket: ptr("new-bucket"), Region: ptr("eu-west-1"), Prefix: ptr("veil")}},
			"", "", []string{"s3.bucket", "s3.prefix", "s3.region"}},
		{"sftp last credential", pid, sftpd.ID, destination.Update{RemoveSecrets: []string{"password"}}, veil.EINVALID, "needs a private key or a password", nil},
		{"sftp both given and removed", pid, sftpd.ID, destination.Update{Secrets: destination.Secrets{Password: "a"}, RemoveSecrets: []string{"password"}}, veil.EINVALID, "both given and removed", nil},
		{"sftp bad host key", pid, sftpd.ID, destination.Update{SFTP: &destination.SFTPUpdate{HostKey: ptr("ssh-rsa nope")}}, veil.EINVALID, "Host key", nil},
		{"sftp private host", pid, sftpd.ID, destination.Update{SFTP: &destination.SFTPUpdate{Host: ptr("127.0.0.1")}}, veil.EINVALID, "refused", nil},
		{"sftp port and dir", pid, sftpd.ID, destination.Update{SFTP: &destination.SFTPUpdate{Port: ptr(2222), Dir: ptr("in/")}}, "", "", []string{"sftp.dir", "sftp.port"}},
		{"age on", pid, sftpd.ID, destination.Update{AgeRecipient: ptr("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")}, "", "", []string{"age_recipient"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := e.db.FindDestination(ctx, pid, tt.id)
			got, err := e.svc.Update(ctx, tt.project, tt.id, tt.u)
			if veil.ErrorCode(err) != tt.code || (err != nil && !strings.Contains(err.Error(), tt.msg)) {
				t.Fatalf("err = %v, want code %q with %q", err, tt.code, tt.msg)
			}
			if tt.code != "" {
				if after, _ := e.db.FindDestination(ctx, pid, tt.id); after != nil && (after.Config != before.Config ||
					string(after.SealedSecret) != string(before.SealedSecret) || after.UpdatedAt != nil && before.UpdatedAt == nil) {
					t.Fatal("a refused edit changed the destination")
				}
				return
			}
			if strings.Join(got.Changed, ",") != strings.Join(tt.changed, ",") {
				t.Fatalf("changed = %q, want %q", got.Changed, tt.changed)
			}
			b, _ := json.Marshal(got)
			for _, s := range []string{"SK", "TOK", `"pw"`, "secret_access_key\":"} {
				if strings.Contains(string(b), s) {
					t.Fatalf("answer echoes a secret (%s): %s", s, b)
				}
			}
		})
	}
	v, _ := e.svc.Find(ctx, pid, s3d.ID)
	if v.Name != "lake" || v.S3.Bucket != "new-bucket" || v.S3.Endpoint != "https://s3.example.com" || v.Mode != "copy" || v.UpdatedAt == nil {
		t.Fatalf("after the edits: %+v %+v", v.Destination, v.S3)
	}
}

// s3Keys lists the object keys of a bucket.
func s3Keys(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	return keys
}

// TestS3_Edit, on a real S3 server (versitygw) and both store dialects:
// moving a destination to a new bucket keeps its stored keys (omitted
// secrets are kept); a broken secret is refused by verify and, saved
// anyway, makes the next push fail and alert; rotating the secret fixes it
// and the retrying push succeeds at the next run (no backoff wait), into
// the new bucket, with nothing lost. The first push keeps its old location.
func TestS3_Edit(t *testing.T) { dialects(t, testS3Edit) }

func testS3Edit(t *testing.T, dsn string) {
	ctx := context.Background()
	oldBucket, endpoint, access, secret := testenv.S3Bucket(t)
	newBucket, _, _, _ := testenv.S3Bucket(t)
	e := newEnvOn(t, dsn)
	pid := e.project.ProjectID
	d, err := e.svc.Create(ctx, pid, s3Input(oldBucket, endpoint, access, secret, destination.ModeCopy))
	if err != nil {
		t.Fatal(err)
	}
	e.replay("ses_before", 0)
	e.pack()
	e.clock.Advance(time.Hour)
	if r := e.run(); r.Pushed != 1 {
		t.Fatalf("first push: %+v", r)
	}

	// The bucket moves; the keys are not given, so the stored ones are used.
	up, err := e.svc.Update(ctx, pid, d.ID, destination.Update{S3: &destination.S3Update{Bucket: &newBucket}, Verify: true})
	if err != nil || up.Test == nil || !up.Test.Verified || !strings.HasPrefix(up.Test.Location, "s3://"+newBucket+"/") ||
		strings.Join(up.Changed, ",") != "s3.bucket" {
		t.Fatalf("move bucket: %+v %v", up, err)
	}

	// A wrong secret: verify refuses it, naming the S3 error; nothing saved.
	bad := destination.Update{Secrets: destination.Secrets{AccessKeyID: access, SecretAccessKey: "not-the-secret"}, Verify: true}
	if _, err := e.svc.Update(ctx, pid, d.ID, bad); veil.ErrorCode(err) != veil.EINVALID ||
		!strings.Contains(err.Error(), "Not saved") || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("verify with a wrong secret: %v", err)
	}
	if _, err := e.svc.Test(ctx, pid, d.ID); err != nil {
		t.Fatalf("a refused edit must leave the working secret: %v", err)
	}
	// Saved without verify, it breaks pushes: they retry and alert.
	bad.Verify = false
	if _, err := e.svc.Update(ctx, pid, d.ID, bad); err != nil {
		t.Fatal(err)
	}
	e.replay("ses_after", 0)
	e.pack()
	e.clock.Advance(time.Hour)
	for i := 0; i < 3; i++ {
		if r := e.run(); r.Failed != 1 {
			t.Fatalf("attempt %d with the wrong secret: %+v", i+1, r)
		}
		e.clock.Advance(10 * time.Minute)
	}
	if v, _ := e.svc.Find(ctx, pid, d.ID); v.Alert != "auth" {
		t.Fatalf("alert = %q, want auth", v.Alert)
	}

	// Rotating the secret alone fixes it; the retrying push is due at once.
	e.clock.Advance(-10 * time.Minute) // the last failure's backoff (2 min) has not passed
	fix, err := e.svc.Update(ctx, pid, d.ID, destination.Update{Secrets: destination.Secrets{SecretAccessKey: secret}, Verify: true})
	if err != nil || strings.Join(fix.Changed, ",") != "secrets.secret_access_key" {
		t.Fatalf("rotate secret: %+v %v", fix, err)
	}
	if r := e.run(); r.Pushed != 1 || r.Failed != 0 {
		t.Fatalf("run after the fix: %+v", r)
	}
	v, _ := e.svc.Find(ctx, pid, d.ID)
	if v.Alert != "" || v.FailingSince != nil || v.Pushes.Done != 2 || v.Pushes.Pending != 0 {
		t.Fatalf("destination after the fix: %+v", v.Destination)
	}
	client := s3Client(endpoint, access, secret)
	for bucket, sid := range map[string]string{oldBucket: "ses_before", newBucket: "ses_after"} {
		keys := s3Keys(t, client, bucket)
		if len(keys) != 2 || !strings.Contains(keys[0], "/"+sid+"/") || !strings.Contains(keys[1], "/"+sid+"/") {
			t.Fatalf("bucket %s holds %v, want %s only", bucket, keys, sid)
		}
		pushes, _ := e.db.ListSessionPushes(ctx, pid, sid)
		if len(pushes) != 1 || pushes[0].State != "done" || !strings.HasPrefix(pushes[0].Location, "s3://"+bucket+"/") {
			t.Fatalf("push of %s: %+v", sid, pushes[0])
		}
		if _, err := e.replayText(sid); err != nil {
			t.Fatalf("copy mode keeps %s: %v", sid, err)
		}
	}
}

// TestSFTP_MoveServer: the customer moves to another SFTP server. Only
// the port changed, the pinned key no longer matches and verify refuses
// it; with the new server's key the stored private key is reused, the next
// recording lands there, and switching to a password works.
func TestSFTP_MoveServer(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pid := e.project.ProjectID
	priv, pub := clientKey(t)
	oldSrv, newSrv := testenv.SFTP(t, pub), testenv.SFTP(t, pub)
	d, err := e.svc.Create(ctx, pid, sftpInput(oldSrv, destination.ModeCopy, priv, ""))
	if err != nil {
		t.Fatal(err)
	}
	port := newSrv.Port()
	if _, err := e.svc.Update(ctx, pid, d.ID, destination.Update{SFTP: &destination.SFTPUpdate{Port: &port}, Verify: true}); veil.ErrorCode(err) != veil.EINVALID ||
		!strings.Contains(err.Error(), "not the pinned") {
		t.Fatalf("new server under the old pin: %v", err)
	}
	hk := newSrv.HostKeyLine()
	up, err := e.svc.Update(ctx, pid, d.ID, destination.Update{SFTP: &destination.SFTPUpdate{Port: &port, HostKey: &hk, Dir: ptr("moved")}, Verify: true})
	if err != nil || strings.Join(up.Changed, ",") != "sftp.dir,sftp.host_key,sftp.port" {
		t.Fatalf("move: %+v %v", up, err)
	}
	e.replay("ses_moved", 0)
	e.pack()
	e.clock.Advance(time.Hour)
	if r := e.run(); r.Pushed != 1 {
		t.Fatalf("push after the move: %+v", r)
	}
	pushes, _ := e.db.ListSessionPushes(ctx, pid, "ses_moved")
	if len(pushes) != 1 || !strings.Contains(pushes[0].Location, ":"+strconv.Itoa(port)+"/moved") {
		t.Fatalf("push location: %+v", pushes)
	}
	if files, _ := filepath.Glob(filepath.Join(newSrv.Root, "moved", pid, "*", "*", "*", "ses_moved", "manifest.json")); len(files) != 1 {
		t.Fatalf("manifest on the new server: %v", files)
	}
	if files, _ := filepath.Glob(filepath.Join(oldSrv.Root, "veil", "out", pid, "*")); len(files) != 0 {
		t.Fatalf("pushed to the old server after the move: %v", files)
	}
	sw := destination.Update{Secrets: destination.Secrets{Password: testenv.SFTPPassword}, RemoveSecrets: []string{"private_key"}, Verify: true}
	if up, err := e.svc.Update(ctx, pid, d.ID, sw); err != nil || strings.Join(up.Changed, ",") != "secrets.password,secrets.private_key" {
		t.Fatalf("switch to a password: %+v %v", up, err)
	}
}
