package destination_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ssh"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/testenv"
)

// clientKey returns a fresh ed25519 client key as OpenSSH PEM and its
// public key.
func clientKey(t *testing.T) (string, ssh.PublicKey) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := ssh.NewPublicKey(pub)
	return string(pem.EncodeToMemory(blk)), sp
}

func sftpInput(srv *testenv.SFTPServer, mode, privateKey, recipient string) destination.Input {
	return destination.Input{Name: "archive", Kind: destination.KindSFTP, Mode: mode,
		SFTP:         &destination.SFTPConfig{Host: "127.0.0.1", Port: srv.Port(), User: testenv.SFTPUser, Dir: "veil/out", HostKey: srv.HostKeyLine()},
		Secrets:      destination.Secrets{PrivateKey: privateKey},
		AgeRecipient: recipient}
}

// readPushed reads a pushed object from the SFTP server's directory,
// decrypting it with id when it is an .age file.
func readPushed(t *testing.T, path string, id age.Identity) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".age") {
		r, err := age.Decrypt(bytes.NewReader(b), id)
		if err != nil {
			t.Fatalf("age decrypt %s: %v", path, err)
		}
		if b, err = io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestSFTP_DoNotStore pushes an age-encrypted recording to a real SFTP
// server, checks the bytes and the manifest, and that Veil kept no content:
// no canary anywhere in the data directory, the session no longer opens,
// and a stub says where it went.
func TestSFTP_DoNotStore(t *testing.T) { dialects(t, testDoNotStore) }

func testDoNotStore(t *testing.T, dsn string) {
	ctx := context.Background()
	e := newEnvOn(t, dsn)
	ep := e.subscribe()
	priv, pub := clientKey(t)
	srv := testenv.SFTP(t, pub)
	id, _ := age.GenerateX25519Identity()
	d, err := e.svc.Create(ctx, e.project.ProjectID, sftpInput(srv, destination.ModeDoNotStore, priv, id.Recipient().String()))
	if err != nil {
		t.Fatal(err)
	}
	e.replay("ses_canary1", 0)
	e.replay("ses_canary1", 1)
	e.pack()
	before, err := e.replayText("ses_canary1")
	if err != nil || !strings.Contains(before, canary) {
		t.Fatalf("before push the replay should hold the canary: %v %.200s", err, before)
	}

	// Not idle yet: nothing is pushed.
	if r := e.run(); r.Pushed != 0 || r.Enqueued != 0 {
		t.Fatalf("pushed a session that is not idle: %+v", r)
	}
	e.clock.Advance(destination.DefaultIdleTimeout + time.Minute)
	r := e.run()
	if r.Pushed != 1 || r.Deleted != 1 || r.Failed != 0 {
		t.Fatalf("run = %+v, want 1 pushed and 1 deleted", r)
	}

	// The pushed objects, read straight from the server's disk.
	sess := e.project.ProjectID + "/" + time.Now().UTC().Format("2006/01/02") + "/ses_canary1/"
	dir := filepath.Join(srv.Root, "veil/out", sess)
	evPath := filepath.Join(dir, "events.json.gz.age")
	raw, _ := os.ReadFile(evPath)
	if bytes.Contains(raw, []byte(canary)) {
		t.Fatal("age-encrypted object holds the canary in clear")
	}
	events := gunzip(t, readPushed(t, evPath, id))
	if events != before {
		t.Fatalf("pushed events differ from veil export replay:\n%.300s\nvs\n%.300s", events, before)
	}
	var m destination.Manifest
	if err := json.Unmarshal(readPushed(t, filepath.Join(dir, "manifest.json.age"), id), &m); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if m.Format != destination.ManifestFormat || m.SessionID != "ses_canary1" || m.Segments != 2 || m.Encryption != "age" ||
		len(m.Objects) != 1 || m.Objects[0].Name != "events.json.gz.age" || m.Objects[0].SHA256 != hex.EncodeToString(sum[:]) ||
		m.Objects[0].Size != int64(len(raw)) {
		t.Fatalf("manifest = %+v", m)
	}
	if strings.Contains(string(readPushed(t, filepath.Join(dir, "manifest.json.age"), id)), canary) {
		t.Fatal("manifest holds recorded content")
	}

	// Veil's copy is gone: not readable, and not in any file.
	if _, err := e.replayText("ses_canary1"); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("replay after do_not_store: %v, want not found", err)
	}
	if files := filesContaining(t, e.dir, canary); len(files) > 0 {
		t.Fatalf("canary still in the data directory: %v", files)
	}
	stub, err := e.db.ListSessionPushes(ctx, e.project.ProjectID, "ses_canary1")
	if err != nil || len(stub) != 1 || stub[0].State != store.PushDone || stub[0].DestinationID != d.ID ||
		stub[0].Prefix != sess || stub[0].SHA256 != hex.EncodeToString(sum[:]) || stub[0].PushedAt == nil ||
		!strings.HasPrefix(stub[0].Location, "sftp://veil@127.0.0.1:") {
		t.Fatalf("stub = %+v, %v", stub, err)
	}
	types, payloads := e.outbox(ep)
	if !contains(types, "recording.pushed") || !contains(types, "recording.deleted") {
		t.Fatalf("outbox = %v", types)
	}
	for _, p := range payloads {
		if strings.Contains(p, canary) {
			t.Fatalf("webhook payload holds recorded content: %s", p)
		}
	}

	// A later run changes nothing.
	if r := e.run(); r.Pushed+r.Failed+r.Enqueued+r.Deleted != 0 {
		t.Fatalf("second run = %+v", r)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSFTP_HostKeyPinning(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	priv, pub := clientKey(t)
	srv := testenv.SFTP(t, pub)

	ok, err := e.svc.Create(ctx, e.project.ProjectID, sftpInput(srv, destination.ModeCopy, priv, ""))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Test(ctx, e.project.ProjectID, ok.ID)
	if err != nil || !res.Verified {
		t.Fatalf("test with the pinned key: %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(srv.Root, "veil/out", res.Object)); !os.IsNotExist(err) {
		t.Fatalf("probe object left behind: %v", err)
	}

	// Password authentication works too.
	in := sftpInput(srv, destination.ModeCopy, "", "")
	in.Secrets = destination.Secrets{Password: testenv.SFTPPassword}
	pw, err := e.svc.Create(ctx, e.project.ProjectID, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Test(ctx, e.project.ProjectID, pw.ID); err != nil {
		t.Fatalf("password auth: %v", err)
	}

	// Another server's key (the real server's key changed, or a man in the
	// middle) is refused before authenticating.
	other := testenv.SFTP(t, pub)
	in = sftpInput(srv, destination.ModeCopy, priv, "")
	in.SFTP.HostKey = "[127.0.0.1]:22 " + other.HostKeyLine() // known_hosts form
	bad, err := e.svc.Create(ctx, e.project.ProjectID, in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Test(ctx, e.project.ProjectID, bad.ID)
	if err == nil || !strings.Contains(err.Error(), "not the pinned") {
		t.Fatalf("wrong host key: err = %v, want a refusal", err)
	}

	// The push job refuses it as well and records the code.
	e.replay("ses_hostkey", 0)
	e.pack()
	e.clock.Advance(time.Hour)
	e.run()
	pushes, _ := e.db.ListSessionPushes(ctx, e.project.ProjectID, "ses_hostkey")
	var codes []string
	for _, p := range pushes {
		if p.DestinationID == bad.ID {
			codes = append(codes, p.State+"/"+p.LastError)
		}
	}
	if len(codes) != 1 || codes[0] != "pending/host_key" {
		t.Fatalf("push to the wrong-key destination: %v", codes)
	}
}

// TestSFTP_Outage stops the server: pushes fail, back off (fake clock),
// raise the alert and destination.failed once, and succeed with nothing
// lost when the server is back.
func TestSFTP_Outage(t *testing.T) { dialects(t, testOutage) }

func testOutage(t *testing.T, dsn string) {
	ctx := context.Background()
	e := newEnvOn(t, dsn)
	reg := prometheus.NewRegistry()
	e.svc.Metrics = destination.NewMetrics(reg)
	ep := e.subscribe()
	priv, pub := clientKey(t)
	srv := testenv.SFTP(t, pub)
	d, err := e.svc.Create(ctx, e.project.ProjectID, sftpInput(srv, destination.ModeDoNotStore, priv, ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, sid := range []string{"ses_out_1", "ses_out_2", "ses_out_3"} {
		e.replay(sid, 0)
	}
	e.pack()
	srv.Stop()
	e.clock.Advance(time.Hour)

	for i := 1; i <= 3; i++ {
		r := e.run()
		if r.Failed != 3 || r.Pushed != 0 || r.Deleted != 0 {
			t.Fatalf("attempt %d during the outage: %+v", i, r)
		}
		// Backoff: nothing is retried before the next attempt is due.
		if r := e.run(); r.Failed != 0 {
			t.Fatalf("retried before the backoff: %+v", r)
		}
		e.clock.Advance(5 * time.Minute)
	}
	v, err := e.svc.Find(ctx, e.project.ProjectID, d.ID)
	if err != nil || v.Alert != "unreachable" || v.FailingSince == nil || v.Pushes.Pending != 3 {
		t.Fatalf("destination during outage: %+v %v", v, err)
	}
	types, payloads := e.outbox(ep)
	if n := count(types, "destination.failed"); n != 1 {
		t.Fatalf("destination.failed messages = %d, want 1 (%v)", n, types)
	}
	if !strings.Contains(payloads[len(payloads)-1], `"error":"unreachable"`) {
		t.Fatalf("payload = %s", payloads[len(payloads)-1])
	}
	// Veil still holds every recording while it could not push.
	for _, sid := range []string{"ses_out_1", "ses_out_2", "ses_out_3"} {
		if txt, err := e.replayText(sid); err != nil || !strings.Contains(txt, canary) {
			t.Fatalf("%s lost during the outage: %v", sid, err)
		}
	}

	srv.Restart()
	e.clock.Advance(time.Hour)
	r := e.run()
	if r.Pushed != 3 || r.Deleted != 3 {
		t.Fatalf("after the outage: %+v", r)
	}
	v, _ = e.svc.Find(ctx, e.project.ProjectID, d.ID)
	if v.Alert != "" || v.FailingSince == nil && v.LastSuccessAt == nil || v.Pushes.Done != 3 {
		t.Fatalf("destination after recovery: %+v", v)
	}
	if ok, failed := pushCount(t, reg, "ok", ""), pushCount(t, reg, "error", "unreachable"); ok != 3 || failed != 9 {
		t.Fatalf("veil_destination_pushes_total: ok %v, unreachable %v; want 3 and 9", ok, failed)
	}
	for _, sid := range []string{"ses_out_1", "ses_out_2", "ses_out_3"} {
		p := filepath.Join(srv.Root, "veil/out", e.project.ProjectID, time.Now().UTC().Format("2006/01/02"), sid, "events.json.gz")
		if txt := gunzip(t, readPushed(t, p, nil)); !strings.Contains(txt, canary) {
			t.Fatalf("%s pushed without its content", sid)
		}
	}
}

// pushCount reads veil_destination_pushes_total{result,code} from reg.
func pushCount(t *testing.T, reg *prometheus.Registry, result, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "veil_destination_pushes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["result"] == result && l["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}
