package web_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/testenv"
	"github.com/veil-privacy/veil/internal/web"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopS3() // the versitygw server of the destination tests
	os.Exit(code)
}

// withDestinations serves the lifecycle env's dashboard with a real
// destination service (allowPrivate: the test servers are on 127.0.0.1).
func (le *lifecycleEnv) withDestinations(allowPrivate bool) {
	le.h = web.New(web.Options{
		Store:        le.db,
		Sessions:     &auth.Sessions{Store: le.db, Now: le.clk.Now},
		Login:        &auth.Login{Store: le.db, Params: fastParams, Now: le.clk.Now},
		MFA:          le.mfa,
		Audit:        le.log,
		Key:          le.key,
		Origin:       le.base,
		Destinations: &destination.Service{Store: le.db, Master: le.master, AllowPrivate: allowPrivate, Timeout: 10 * time.Second},
	})
}

// sshKeys returns a fresh ed25519 key as an unencrypted OpenSSH private
// key and its public key, also as an authorized_keys line.
func sshKeys(t *testing.T) (privatePEM string, pub ssh.PublicKey) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if pub, err = ssh.NewPublicKey(priv.Public()); err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(blk)), pub
}

func keyLine(k ssh.PublicKey) string { return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) }

// TestDestinationPages drives the destination pages over HTTP against a
// real S3 server (versitygw) and a real SFTP server (testenv.SFTP): add
// with write-only secrets, the probe's verified result and a clear failure
// (a host key that is not the pinned one), push failures and alerts, roles,
// CSRF, another tenant's destination (404), the SSRF guard, removal, and
// the audit log.
func TestDestinationPages(t *testing.T) {
	bucket, endpoint, access, secret := testenv.S3Bucket(t)
	le := newLifecycleEnv(t)
	ctx := context.Background()
	base := "/orgs/" + le.orgA.ID + "/projects/" + le.pa.ID + "/destinations"
	s3Form := url.Values{"kind": {"s3"}, "name": {"lake"}, "bucket": {bucket}, "prefix": {"veil"}, "region": {testenv.S3Region},
		"endpoint": {endpoint}, "path_style": {"1"}, "sse": {"none"}, "mode": {"copy"},
		"access_key_id": {access}, "secret_access_key": {secret}}
	noSecrets := func(t *testing.T, what, body string) {
		t.Helper()
		for _, s := range []string{secret, access} {
			if strings.Contains(body, s) {
				t.Fatalf("%s renders a credential (%q):\n%s", what, s, body)
			}
		}
	}

	// Without the operator's opt-in, a loopback endpoint is refused, naming it.
	le.withDestinations(false)
	admin := le.login("admin")
	admin.get(base)
	resp, body := admin.post(base, s3Form)
	if resp.StatusCode != 400 || !strings.Contains(body, "refused: loopback address") || !strings.Contains(body, "VEIL_DESTINATION_ALLOW_PRIVATE=true") {
		t.Fatalf("loopback endpoint without the opt-in: %d\n%s", resp.StatusCode, body)
	}
	noSecrets(t, "the refused form", body)

	le.withDestinations(true)
	if resp, _ := le.login("viewer").get(base); resp.StatusCode != 403 {
		t.Fatalf("viewer: %d", resp.StatusCode)
	}
	member := le.login("member")
	if resp, body := member.get(base); resp.StatusCode != 200 || strings.Contains(body, "Add an S3") || !strings.Contains(body, "No destinations") {
		t.Fatalf("member list: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := member.post(base, s3Form); resp.StatusCode != 403 {
		t.Fatalf("member add: %d", resp.StatusCode)
	}
	if _, body := admin.get(base); !strings.Contains(body, "Add an S3-compatible destination") || !strings.Contains(body, "Add an SFTP destination") {
		t.Fatalf("admin list without the add forms:\n%s", body)
	}

	// Invalid input: 400 with the reason, the form refilled without secrets.
	bad := url.Values{}
	for k, v := range s3Form {
		bad[k] = v
	}
	bad.Set("bucket", "Not A Bucket")
	resp, body = admin.post(base, bad)
	if resp.StatusCode != 400 || !strings.Contains(body, "Bucket must be a valid S3 bucket name") || !strings.Contains(body, `value="Not A Bucket"`) {
		t.Fatalf("bad bucket: %d\n%s", resp.StatusCode, body)
	}
	noSecrets(t, "the refilled form", body)
	// CSRF: a wrong token or a cross-site post changes nothing.
	if resp, _ := admin.post(base, url.Values{"csrf_token": {"forged"}, "kind": {"s3"}}); resp.StatusCode != 403 {
		t.Fatalf("forged token: %d", resp.StatusCode)
	}
	if resp, _ := admin.post(base, s3Form, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 {
		t.Fatalf("cross-site post: %d", resp.StatusCode)
	}

	// Add, then the probe against the real server: verified.
	resp, _ = admin.post(base, s3Form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 303 || !strings.HasPrefix(loc, base+"/dst_") {
		t.Fatalf("add: %d %s", resp.StatusCode, loc)
	}
	page := strings.TrimSuffix(loc, "?done=added")
	id := strings.TrimPrefix(page, base+"/")
	resp, body = admin.get(loc)
	if resp.StatusCode != 200 || !strings.Contains(body, "Destination added") || !strings.Contains(body, bucket) || !strings.Contains(body, "sealed (never shown)") {
		t.Fatalf("destination page: %d\n%s", resp.StatusCode, body)
	}
	noSecrets(t, "the destination page", body)
	resp, body = admin.post(page+"/test", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Test passed") || !strings.Contains(body, "s3://"+bucket+"/veil/.veil-probe/") {
		t.Fatalf("probe: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := member.post(page+"/test", nil); resp.StatusCode != 403 {
		t.Fatalf("member test: %d", resp.StatusCode)
	}
	// Pause and resume.
	if resp, _ := member.post(page+"/pause", nil); resp.StatusCode != 403 {
		t.Fatalf("member pause: %d", resp.StatusCode)
	}
	if resp, _ := admin.post(page+"/pause", nil); resp.StatusCode != 303 || resp.Header.Get("Location") != page+"?done=paused" {
		t.Fatalf("pause: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := admin.get(page + "?done=paused"); !strings.Contains(body, "Destination paused") || !strings.Contains(body, ">paused</span> since") ||
		!strings.Contains(body, "Resume pushes") {
		t.Fatalf("paused destination page:\n%s", body)
	}
	if _, body := member.get(base); !strings.Contains(body, ">paused</span> since") {
		t.Fatalf("list without the paused state:\n%s", body)
	}
	if resp, _ := admin.post(page+"/resume", nil); resp.StatusCode != 303 {
		t.Fatalf("resume: %d", resp.StatusCode)
	}
	if d, _ := le.db.FindDestination(ctx, le.pa.ID, id); d.PausedAt != nil {
		t.Fatal("still paused after resume")
	}

	// SFTP against a real server (pkg/sftp): verified with the pinned host
	// key; pinned to another key, the probe refuses to connect and says why.
	key, pub := sshKeys(t)
	srv := testenv.SFTP(t, pub)
	_, otherKey := sshKeys(t)
	sftpForm := func(name, hostKey string) url.Values {
		return url.Values{"kind": {"sftp"}, "name": {name}, "host": {"127.0.0.1"}, "port": {strconv.Itoa(srv.Port())},
			"user": {testenv.SFTPUser}, "dir": {"incoming"}, "host_key": {hostKey}, "private_key": {key}, "mode": {"do_not_store"}}
	}
	port := strconv.Itoa(srv.Port())
	for _, tc := range []struct{ name, hostKey, outcome, detail string }{
		{"archive", srv.HostKeyLine(), "Test passed", "<code>sftp://veil@127.0.0.1:" + port + "/incoming/.veil-probe/"},
		{"impostor", keyLine(otherKey), "Test failed", "sftp host key of 127.0.0.1:" + port + " is ssh-ed25519 SHA256:"},
	} {
		resp, _ := admin.post(base, sftpForm(tc.name, tc.hostKey))
		if resp.StatusCode != 303 {
			t.Fatalf("add sftp %s: %d", tc.name, resp.StatusCode)
		}
		p := strings.TrimSuffix(resp.Header.Get("Location"), "?done=added")
		resp, body = admin.post(p+"/test", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, tc.outcome) || !strings.Contains(body, tc.detail) {
			t.Fatalf("sftp probe %s: %d, want %q and %q\n%s", tc.name, resp.StatusCode, tc.outcome, tc.detail, body)
		}
		if strings.Contains(body, "OPENSSH PRIVATE KEY") {
			t.Fatal("the private key is rendered")
		}
	}

	// Push status: a failing push of the recorded session raises the alert.
	seg := veil.PackedSegment{Segment: veil.Segment{ProjectID: le.pa.ID, SessionID: le.sa.ID, Seq: 0, BlobKey: "p/" + le.pa.ID + "/packs/pk_1",
		Length: 10, FirstTS: time.Now(), LastTS: time.Now(), Events: 2}}
	if _, err := le.db.CommitPack(ctx, &veil.PackCommit{NodeID: "n1", Segments: []veil.PackedSegment{seg}}); err != nil {
		t.Fatal(err)
	}
	d, err := le.db.FindDestination(ctx, le.pa.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if n, err := le.db.EnqueuePushes(ctx, d, later, later, 10); err != nil || n != 1 {
		t.Fatalf("enqueue: %d %v", n, err)
	}
	due, err := le.db.ListDuePushes(ctx, d.ID, later, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due: %v %v", due, err)
	}
	if _, err := le.db.FailPush(ctx, due[0], "unreachable", later, 1, veil.WebhookEvent{ProjectID: le.pa.ID, Type: "destination.failed", Data: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if _, body := member.get(base); !strings.Contains(body, "1 destination is failing") || !strings.Contains(body, "ALERT: unreachable") {
		t.Fatalf("list without the alert:\n%s", body)
	}
	if _, body := member.get(page); !strings.Contains(body, le.sa.ID) || !strings.Contains(body, `<strong class="error">unreachable</strong>`) ||
		strings.Contains(body, "Test: write") {
		t.Fatalf("destination page without the failing push (or with admin buttons for a member):\n%s", body)
	}

	// Another tenant's destination: 404 under our project and theirs.
	other, err := (&destination.Service{Store: le.db, Master: le.master, AllowPrivate: true}).Create(ctx, le.pb.ID, destination.Input{Kind: "s3",
		S3: &destination.S3Config{Bucket: "bucket-b", Endpoint: "http://127.0.0.1:1"}, Secrets: destination.Secrets{AccessKeyID: "AK", SecretAccessKey: "SK"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{base + "/" + other.ID, "/orgs/" + le.orgB.ID + "/projects/" + le.pb.ID + "/destinations/" + other.ID} {
		if resp, _ := admin.get(p); resp.StatusCode != 404 {
			t.Fatalf("GET %s: %d, want 404", p, resp.StatusCode)
		}
		for _, action := range []string{"/test", "/delete"} {
			if resp, _ := admin.post(p+action, url.Values{"confirm": {"yes"}}); resp.StatusCode != 404 {
				t.Fatalf("POST %s%s: %d, want 404", p, action, resp.StatusCode)
			}
		}
	}
	if _, err := le.db.FindDestination(ctx, le.pb.ID, other.ID); err != nil {
		t.Fatalf("the other tenant's destination: %v", err)
	}

	// Removal needs the confirmation box; the stub rows stay.
	if resp, _ := admin.post(page+"/delete", nil); resp.StatusCode != 400 {
		t.Fatalf("remove without confirmation: %d", resp.StatusCode)
	}
	if resp, _ := admin.post(page+"/delete", url.Values{"confirm": {"yes"}}); resp.StatusCode != 303 || resp.Header.Get("Location") != base+"?removed=1" {
		t.Fatalf("remove: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := admin.get(page); resp.StatusCode != 404 {
		t.Fatalf("removed destination page: %d", resp.StatusCode)
	}
	if _, body := admin.get(base); strings.Contains(body, id) || !strings.Contains(body, "archive") {
		t.Fatalf("list after removal:\n%s", body)
	}

	var acts []string
	entries, _ := le.db.ListAudit(ctx, veil.AuditFilter{OrgID: le.orgA.ID, Limit: 100})
	for _, en := range entries {
		if en.ObjectKind == "destination" {
			acts = append(acts, en.Action+" "+en.Details["ok"])
			if en.Details["project"] != le.pa.ID {
				t.Fatalf("audit entry without the project: %+v", en)
			}
		}
	}
	if got := strings.Join(acts, ","); got != "destination.create ,destination.test true,destination.pause ,destination.resume ,"+
		"destination.create ,destination.test true,destination.create ,destination.test false,destination.delete " {
		t.Fatalf("audit = %s", got)
	}
}

// TestDestinationScreenshots writes docs/screenshots/destinations.png (a
// project's destinations: one pushing, one on a real S3 server, one
// failing), destination.png (the real one after "Test") and
// session-pushed.png when VEIL_SCREENSHOTS is set; the pages are checked
// in Chromium either way.
func TestDestinationScreenshots(t *testing.T) {
	bucket, endpoint, access, secret := testenv.S3Bucket(t)
	le := newLifecycleEnv(t)
	le.withDestinations(true)
	ctx := context.Background()
	svc := &destination.Service{Store: le.db, Master: le.master, AllowPrivate: true}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	_, hk := sshKeys(t)
	hostKey := keyLine(hk)
	lake, err := svc.Create(ctx, le.pa.ID, destination.Input{Name: "Data lake (EU)", Kind: "s3", Mode: destination.ModeDoNotStore,
		S3:      &destination.S3Config{Bucket: "acme-replays", Prefix: "veil", Region: "eu-west-1", SSE: destination.SSEKMS, KMSKeyID: "alias/replays"},
		Secrets: destination.Secrets{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "example"}, AgeRecipient: id.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	minio, err := svc.Create(ctx, le.pa.ID, destination.Input{Name: "On-prem MinIO", Kind: "s3", Mode: destination.ModeCopy,
		S3:      &destination.S3Config{Bucket: bucket, Prefix: "replays", Region: testenv.S3Region, Endpoint: endpoint, PathStyle: true},
		Secrets: destination.Secrets{AccessKeyID: access, SecretAccessKey: secret}})
	if err != nil {
		t.Fatal(err)
	}
	archive, err := svc.Create(ctx, le.pa.ID, destination.Input{Name: "Archive (SFTP)", Kind: "sftp", Mode: destination.ModeCopy,
		SFTP:    &destination.SFTPConfig{Host: "files.acme.example", Port: 22, User: "veil", Dir: "incoming/veil", HostKey: hostKey},
		Secrets: destination.Secrets{Password: "example"}})
	if err != nil {
		t.Fatal(err)
	}
	// Recorded sessions: pushed to the lake, failing to the archive.
	now := time.Now()
	var segs []veil.PackedSegment
	for i, sid := range []string{"ses_7Hq2Kc", "ses_9Lm4Rt", "ses_3Vx8Zp"} {
		at := now.Add(-time.Duration(90-20*i) * time.Minute)
		if err := le.db.CreateSession(ctx, &veil.Session{ProjectID: le.pa.ID, ID: sid, WrappedKey: []byte("w"), FirstSeen: at, LastSeen: at}); err != nil {
			t.Fatal(err)
		}
		segs = append(segs, veil.PackedSegment{Segment: veil.Segment{ProjectID: le.pa.ID, SessionID: sid, Seq: 0, BlobKey: "p/" + le.pa.ID + "/packs/pk_1",
			Offset: int64(i * 100), Length: 100, FirstTS: at, LastTS: at, Events: 40}})
	}
	if _, err := le.db.CommitPack(ctx, &veil.PackCommit{NodeID: "n1", Segments: segs}); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	var pushed string // a session pushed to the lake and deleted from Veil
	for _, d := range []*destination.View{lake, archive} {
		if _, err := le.db.EnqueuePushes(ctx, d.Destination, later, later, 10); err != nil {
			t.Fatal(err)
		}
		due, err := le.db.ListDuePushes(ctx, d.ID, later, 10)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range due {
			if d == archive {
				for range 3 {
					if _, err := le.db.FailPush(ctx, p, "unreachable", later, 3, veil.WebhookEvent{ProjectID: le.pa.ID, Type: "destination.failed", Data: map[string]string{}}); err != nil {
						t.Fatal(err)
					}
				}
				continue
			}
			if i == 2 {
				continue // still pending
			}
			p.Location, p.Prefix, p.SHA256, p.Bytes, p.Encrypted = "s3://acme-replays/veil/", le.pa.ID+"/"+now.UTC().Format("2006/01/02")+"/"+p.SessionID+"/", "ab12", 48213, true
			if err := le.db.CompletePush(ctx, p, veil.WebhookEvent{ProjectID: le.pa.ID, Type: "recording.pushed", Data: map[string]string{}}); err != nil {
				t.Fatal(err)
			}
			if i == 0 { // do_not_store: Veil's copy goes once the push is verified
				if _, err := le.db.ShredPushedSession(ctx, le.pa.ID, p.SessionID, p.Upto); err != nil {
					t.Fatal(err)
				}
				pushed = p.SessionID
			}
		}
	}
	base := "/orgs/" + le.orgA.ID + "/projects/" + le.pa.ID + "/destinations"
	res := runPlayer(t, &dataEnv{env: le.env}, "admin", []map[string]any{
		{"name": "destinations", "path": base, "shot": "destinations.png"},
		{"name": "destination", "path": base + "/" + minio.ID, "click": "#dest-test", "waitFor": "#test-result", "shot": "destination.png"},
		{"name": "archive", "path": base + "/" + archive.ID},
		{"name": "pushed", "path": "/orgs/" + le.orgA.ID + "/projects/" + le.pa.ID + "/sessions/" + pushed, "read": "main", "shot": "session-pushed.png"},
	})
	for name, r := range res {
		if r.Status != 200 {
			t.Errorf("%s: %d %s", name, r.Status, r.Error)
		}
	}
	for _, w := range []string{"not stored in Veil", "s3://acme-replays/veil/" + le.pa.ID, lake.ID} {
		if !strings.Contains(res["pushed"].Text, w) {
			t.Errorf("pushed session page does not show %q:\n%s", w, res["pushed"].Text)
		}
	}
}
