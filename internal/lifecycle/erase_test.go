package lifecycle_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/lifecycle"
)

func TestEraseAndExportUser(t *testing.T) {
	ctx := audit.WithActor(context.Background(), audit.Actor{Kind: audit.ActorUser, ID: "usr_dpo"})
	e := newEnv(t)
	pid := e.project.ProjectID
	e.replay("user1-session-a", 1, "u-1", day0)
	e.replay("user1-session-a", 2, "u-1", day0)
	e.replay("user2-session-a", 1, "u-2", day0)
	e.replay("anon-session-0001", 1, "", day0) // linked to u-1 only by an event
	e.track("u-1", "", "Bought", day0)
	e.track("u-2", "", "Bought", day0)
	e.pack()
	e.track("", "u-1", "Viewed", day0.Add(time.Minute)) // anonymousId only
	e.post("/v1/track", `{"type":"track","event":"Linked","userId":"u-1","context":{"veil":{"sessionId":"anon-session-0001"}}}`)
	e.track("u-2", "a-2", "Viewed", day0.Add(time.Minute))
	e.pack()
	e.track("", "u-1", "Alone", day0.Add(2*time.Minute)) // a batch with only u-1: deleted whole
	e.pack()

	// Export first: the archive holds the user's data and nobody else's.
	var zbuf bytes.Buffer
	m, err := e.svc.ExportUser(ctx, pid, "u-1", &zbuf)
	if err != nil {
		t.Fatal(err)
	}
	if m.Events != 4 || !slices.Equal(m.Sessions, []string{"anon-session-0001", "user1-session-a"}) {
		t.Fatalf("manifest = %+v", m)
	}
	zr, err := zip.NewReader(bytes.NewReader(zbuf.Bytes()), int64(zbuf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	if strings.Count(files["events.jsonl"], "\n") != 4 || strings.Contains(files["events.jsonl"], "u-2") {
		t.Fatalf("events.jsonl:\n%s", files["events.jsonl"])
	}
	var sj struct {
		Session struct{ ID string }
		RRWeb   []json.RawMessage
	}
	if err := json.Unmarshal([]byte(files["sessions/user1-session-a.json"]), &sj); err != nil || sj.Session.ID != "user1-session-a" || len(sj.RRWeb) != 4 {
		t.Fatalf("session file: %v %s", err, files["sessions/user1-session-a.json"])
	}
	if _, ok := files["manifest.json"]; !ok {
		t.Fatal("no manifest.json")
	}

	before, _ := e.db.ListEventBatches(ctx, pid, time.Time{}, time.Time{})
	ep := &veil.WebhookEndpoint{ProjectID: pid, URL: "https://hooks.example/x", EventTypes: []string{"user.erased", "recording.deleted"},
		Enabled: true, SealedSecret: []byte("sealed")}
	if err := e.db.CreateWebhookEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.Erase(ctx, pid, "u-1")
	if err != nil {
		t.Fatal(err)
	}
	// Subscribers hear of each shredded recording and of the erasure,
	// by ids and counts only.
	msgs, err := e.db.ListWebhookMessages(ctx, pid, ep.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, m := range msgs {
		kinds[m.EventType]++
		if strings.Contains(string(m.Payload), "u-1") {
			t.Fatalf("webhook payload names the user: %s", m.Payload)
		}
	}
	if kinds["user.erased"] != 1 || kinds["recording.deleted"] != 2 {
		t.Fatalf("webhook messages = %v", kinds)
	}
	if c.Deleted.Sessions != 2 || c.Deleted.Segments != 3 || c.Deleted.Events != 4 || c.Deleted.BatchesDeleted != 1 || c.Deleted.BatchesRewritten != 2 {
		t.Fatalf("certificate = %+v", c.Deleted)
	}
	cj, _ := json.Marshal(c)
	if strings.Contains(string(cj), "u-1") || !strings.HasPrefix(c.Subject, "user_id:") || c.RequestedBy != "user:usr_dpo" || c.AuditSeq == 0 {
		t.Fatalf("certificate: %s", cj)
	}
	ev := e.eventsText()
	if strings.Contains(ev, "u-1") || strings.Count(ev, "u-2") != 2 {
		t.Fatalf("events after erasure:\n%s", ev)
	}
	after, _ := e.db.ListEventBatches(ctx, pid, time.Time{}, time.Time{})
	total := 0
	for _, b := range after {
		total += b.Count
	}
	if len(after) != len(before)-1 || total != 2 {
		t.Fatalf("batches after erasure: %d (was %d), %d events", len(after), len(before), total)
	}
	for _, sid := range []string{"user1-session-a", "anon-session-0001"} {
		if _, err := e.replayText(sid); err == nil {
			t.Fatalf("session %s survived erasure", sid)
		}
	}
	if _, err := e.replayText("user2-session-a"); err != nil {
		t.Fatalf("other user's session: %v", err)
	}
	// Old batch objects are gone from disk.
	for _, b := range before {
		if _, err := e.blobs.Get(ctx, b.BlobKey); err == nil && !slices.ContainsFunc(after, func(a *veil.EventBatch) bool { return a.BlobKey == b.BlobKey }) {
			t.Fatalf("old batch object %s still stored", b.BlobKey)
		}
	}
	// A second erasure finds nothing, and says so.
	c2, err := e.svc.Erase(ctx, pid, "u-1")
	if err != nil || c2.Deleted.Sessions+c2.Deleted.Events != 0 {
		t.Fatalf("second erasure = %+v, %v", c2, err)
	}
	acts := e.auditActions()
	if !slices.Contains(acts, lifecycle.ActionUserErase) || !slices.Contains(acts, audit.ActionDataExport) {
		t.Fatalf("audit actions = %v", acts)
	}
}

// TestEraseCompactsAtOnce: an erasure removes the user's sealed replay
// bytes from the pack objects before it writes the certificate (whoever
// calls it: CLI, API or dashboard), leaving other sessions whole; when
// another node holds the compaction lease the certificate says "pending"
// and the next compaction run removes them.
func TestEraseCompactsAtOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pid := e.project.ProjectID
	for seq := 1; seq <= 2; seq++ { // interleaved, so packs hold all three
		e.replay("erased-session-0001", seq, "u-9", day0)
		e.replay("pending-session-001", seq, "u-8", day0)
		e.replay("kept-session-000001", seq, "u-7", day0)
	}
	e.pack()
	sealedOf := func(sid string) [][]byte {
		segs, err := e.db.ListSegments(ctx, pid, sid)
		if err != nil || len(segs) != 2 {
			t.Fatalf("segments of %s = %v, %v", sid, segs, err)
		}
		var out [][]byte
		for _, sg := range segs {
			b, err := e.blobs.GetRange(ctx, sg.BlobKey, sg.Offset, sg.Length)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		return out
	}
	stored := func(bs [][]byte) bool { return slices.ContainsFunc(bs, e.blobDirContains) }
	erased, pending := sealedOf("erased-session-0001"), sealedOf("pending-session-001")

	c, err := e.svc.Erase(ctx, pid, "u-9")
	if err != nil || c.Deleted.Sessions != 1 || c.Compaction != lifecycle.CompactionDone {
		t.Fatalf("Erase = %+v, %v", c, err)
	}
	if stored(erased) {
		t.Fatal("erased sealed bytes still in the blob directory after the erasure returned")
	}
	if garbage, _ := e.db.ListPackGarbage(ctx, 10); len(garbage) != 0 {
		t.Fatalf("packs left for compaction: %v", garbage)
	}

	if ok, _ := e.db.AcquireLease(ctx, lifecycle.LeaseCompact, "other-node", time.Minute); !ok {
		t.Fatal("could not take the lease")
	}
	c, err = e.svc.Erase(ctx, pid, "u-8")
	if err != nil || c.Deleted.Sessions != 1 || c.Compaction != lifecycle.CompactionPending {
		t.Fatalf("Erase under another node's lease = %+v, %v", c, err)
	}
	if _, err := e.replayText("pending-session-001"); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("shredded session still opens: %v", err)
	}
	if !stored(pending) {
		t.Fatal("bytes gone although compaction could not run (test is not testing anything)")
	}
	e.db.ReleaseLease(ctx, lifecycle.LeaseCompact, "other-node")
	if _, err := e.svc.Compact(ctx, "node-a", 0); err != nil {
		t.Fatal(err)
	}
	if stored(pending) {
		t.Fatal("bytes still stored after the compaction run")
	}
	if text, err := e.replayText("kept-session-000001"); err != nil || strings.Count(text, "segment-kept-session-000001") != 2 {
		t.Fatalf("other session after compactions: %v\n%s", err, text)
	}
	entries, err := e.db.ListAudit(ctx, veil.AuditFilter{OrgID: e.project.OrgID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, en := range entries {
		if en.Action == lifecycle.ActionUserErase {
			states = append(states, en.Details["compaction"])
		}
	}
	if !slices.Equal(states, []string{"done", "pending"}) {
		t.Fatalf("compaction in the data.erase audit entries = %v", states)
	}
}
