package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestPackAfterProjectDeleted: a project deleted while its events and
// segments wait in the log does not hold up the packer: its records are
// dropped with it (its key is gone), and another project's records in the
// same round are stored.
func TestPackAfterProjectDeleted(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	other, err := e.prov.CreateProject(ctx, "acme", "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.track(t, "m-gone-1", "x")
	replay := `{"events":[{"type":4,"timestamp":1700000000000,"data":{"href":"https://a.example/x"}}]}`
	if r := e.do(req{path: "/v1/replay?session=sess-gone-0001&seq=0", body: replay, key: e.project.ServerKey}); r.status != 200 {
		t.Fatal(r.body)
	}
	body := fmt.Sprintf(`{"type":"track","event":"Kept","userId":"u-2","messageId":%q}`, "m-kept-1")
	if r := e.do(req{path: "/v1/track", body: body, key: other.ServerKey}); r.status != 200 {
		t.Fatal(r.body)
	}
	if r := e.do(req{path: "/v1/replay?session=sess-kept-0001&seq=0", body: replay, key: other.ServerKey}); r.status != 200 {
		t.Fatal(r.body)
	}
	if err := e.db.DeleteProject(ctx, e.project.OrgID, e.project.ProjectID); err != nil {
		t.Fatal(err)
	}
	e.pack() // fails the test on a round error
	batches, err := e.db.ListEventBatches(ctx, other.ProjectID, time.Time{}, time.Time{})
	if err != nil || len(batches) != 1 || batches[0].Count != 1 {
		t.Errorf("other project's event batches: %+v, %v", batches, err)
	}
	if segs, err := e.db.ListSegments(ctx, other.ProjectID, "sess-kept-0001"); err != nil || len(segs) != 1 {
		t.Errorf("other project's segments: %v, %v", segs, err)
	}
	if n, err := e.packer.Round(ctx); err != nil || n != 0 {
		t.Errorf("log not drained: round = %d, %v", n, err)
	}
}
