package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

// TestSessionPageShowsPushStub: a session Veil deleted after pushing it
// (do_not_store) shows where it went instead of a player; another
// tenant's stub stays a 404.
func TestSessionPageShowsPushStub(t *testing.T) {
	le := newLifecycleEnv(t)
	ctx := context.Background()
	for _, x := range []struct {
		p *veil.Project
		s *veil.Session
	}{{le.pa, le.sa}, {le.pb, le.sb}} {
		d := &store.Destination{ProjectID: x.p.ID, Kind: "s3", Mode: "do_not_store", Config: "{}", SealedSecret: []byte("x")}
		if err := le.db.CreateDestination(ctx, d); err != nil {
			t.Fatal(err)
		}
		seg := veil.PackedSegment{Segment: veil.Segment{ProjectID: x.p.ID, SessionID: x.s.ID, Seq: 0, BlobKey: "p/" + x.p.ID + "/packs/pk_1",
			Length: 10, FirstTS: time.Now(), LastTS: time.Now(), Events: 2}}
		if _, err := le.db.CommitPack(ctx, &veil.PackCommit{NodeID: "n1", Segments: []veil.PackedSegment{seg}}); err != nil {
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
		p := due[0]
		if x.p == le.pa {
			// A failing destination shows its alert on the settings page.
			alerted, err := le.db.FailPush(ctx, p, "unreachable", later, 1, veil.WebhookEvent{ProjectID: x.p.ID, Type: "destination.failed", Data: map[string]string{}})
			if err != nil || !alerted {
				t.Fatalf("FailPush: %v %v", alerted, err)
			}
			_, body := le.login("member").get("/orgs/" + le.orgA.ID + "/projects/" + le.pa.ID + "/settings")
			if !strings.Contains(body, "ALERT: unreachable") || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, d.ID) {
				t.Fatalf("settings page without the destination alert:\n%s", body)
			}
		}
		p.Location, p.Prefix, p.SHA256, p.Bytes = "s3://acme-replays/veil/", x.p.ID+"/2026/11/23/"+x.s.ID+"/", "ab12cd", 42
		if err := le.db.CompletePush(ctx, p, veil.WebhookEvent{ProjectID: x.p.ID, Type: "recording.pushed", Data: map[string]string{}}); err != nil {
			t.Fatal(err)
		}
		if _, err := le.db.ShredPushedSession(ctx, x.p.ID, x.s.ID, p.Upto); err != nil {
			t.Fatal(err)
		}
	}
	_, body := le.login("member").get("/orgs/" + le.orgA.ID + "/projects/" + le.pa.ID + "/settings")
	if strings.Contains(body, "ALERT") || !strings.Contains(body, "last push") {
		t.Fatalf("settings page after a successful push:\n%s", body)
	}
	viewer := le.login("viewer")
	resp, body := viewer.get("/orgs/" + le.orgA.ID + "/projects/" + le.pa.ID + "/sessions/" + le.sa.ID)
	if resp.StatusCode != 200 || !strings.Contains(body, "not stored in Veil") || !strings.Contains(body, "s3://acme-replays/veil/"+le.pa.ID) ||
		strings.Contains(body, "replay.ndjson") {
		t.Fatalf("stub page: %d\n%s", resp.StatusCode, body)
	}
	for _, p := range []string{"/orgs/" + le.orgA.ID + "/projects/" + le.pa.ID + "/sessions/" + le.sb.ID,
		"/orgs/" + le.orgB.ID + "/projects/" + le.pb.ID + "/sessions/" + le.sb.ID} {
		if resp, _ := viewer.get(p); resp.StatusCode != 404 {
			t.Fatalf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
}
