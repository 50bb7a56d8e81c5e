package storetest

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

func mustEndpoint(t *testing.T, db *store.DB, projectID string, types ...string) *veil.WebhookEndpoint {
	t.Helper()
	e := &veil.WebhookEndpoint{ProjectID: projectID, URL: "https://hooks.example/" + projectID, EventTypes: types,
		Enabled: true, SealedSecret: []byte("sealed")}
	if err := db.CreateWebhookEndpoint(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

func testWebhook(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	org := MustCreateOrg(t, db, "o")
	p := MustCreateProject(t, db, org.ID, "p")
	other := MustCreateProject(t, db, org.ID, "q")

	t.Run("Endpoint", func(t *testing.T) {
		wantCode(t, db.CreateWebhookEndpoint(ctx, &veil.WebhookEndpoint{ProjectID: p.ID, URL: "https://x"}), veil.EINVALID)
		wantCode(t, db.CreateWebhookEndpoint(ctx, &veil.WebhookEndpoint{ProjectID: "prj_missing", URL: "https://x", SealedSecret: []byte("s")}), veil.ENOTFOUND)
		e := mustEndpoint(t, db, p.ID, "key.revoked")
		got, err := db.FindWebhookEndpoint(ctx, p.ID, e.ID)
		if err != nil || got.URL != e.URL || len(got.EventTypes) != 1 || !got.Enabled || !got.CreatedAt.Equal(now(clk)) {
			t.Fatalf("find: %+v %v", got, err)
		}
		_, err = db.FindWebhookEndpoint(ctx, other.ID, e.ID)
		wantCode(t, err, veil.ENOTFOUND)
		until := clk.Now().Add(time.Hour)
		got.Enabled, got.DisabledReason, got.SealedPrevSecret, got.PrevSecretUntil, got.EventTypes = false, "why", []byte("old"), &until, nil
		wantCode(t, db.UpdateWebhookEndpoint(ctx, got), "")
		again, _ := db.FindWebhookEndpoint(ctx, p.ID, e.ID)
		if again.Enabled || again.DisabledReason != "why" || string(again.SealedPrevSecret) != "old" || again.EventTypes != nil {
			t.Fatalf("update: %+v", again)
		}
		got.ProjectID = other.ID
		wantCode(t, db.UpdateWebhookEndpoint(ctx, got), veil.ENOTFOUND)
		wantCode(t, db.DeleteWebhookEndpoint(ctx, other.ID, e.ID), veil.ENOTFOUND)
		wantCode(t, db.DeleteWebhookEndpoint(ctx, p.ID, e.ID), "")
		if es, err := db.ListWebhookEndpoints(ctx, p.ID); err != nil || len(es) != 0 {
			t.Fatalf("list after delete: %v %v", es, err)
		}
	})

	t.Run("EmitInTransaction", func(t *testing.T) {
		e := mustEndpoint(t, db, p.ID, "key.revoked")
		defer db.DeleteWebhookEndpoint(ctx, p.ID, e.ID)
		mustEndpoint(t, db, other.ID) // another project's endpoint gets nothing
		// Rolled back: no message.
		boom := errors.New("boom")
		err := db.WithWebhookTx(ctx, func(tx *sql.Tx) error {
			if _, err := db.EmitWebhookEventTx(ctx, tx, veil.WebhookEvent{ProjectID: p.ID, Type: "key.revoked"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if ms, _ := db.ListWebhookMessages(ctx, p.ID, e.ID, 0); len(ms) != 0 {
			t.Fatalf("rolled-back event queued: %v", ms)
		}
		// key.revoked with the revocation, once.
		k := MustCreateKey(t, db, p.ID, "whk1")
		wantCode(t, db.RevokeKeyAndEmit(ctx, p.ID, k.ID, clk.Now()), "")
		wantCode(t, db.RevokeKeyAndEmit(ctx, p.ID, k.ID, clk.Now()), "")
		wantCode(t, db.RevokeKeyAndEmit(ctx, other.ID, k.ID, clk.Now()), veil.ENOTFOUND)
		ms, err := db.ListWebhookMessages(ctx, p.ID, e.ID, 0)
		if err != nil || len(ms) != 1 || ms[0].EventType != "key.revoked" || ms[0].Status != veil.WebhookPending {
			t.Fatalf("messages %+v %v", ms, err)
		}
		if keys, _ := db.ListKeys(ctx, p.ID); keys[len(keys)-1].RevokedAt == nil {
			t.Fatal("key not revoked")
		}
		// Filtered out: no message.
		if ids, err := db.EmitWebhookEvent(ctx, veil.WebhookEvent{ProjectID: p.ID, Type: "session.started"}); err != nil || len(ids) != 0 {
			t.Fatalf("filtered event queued: %v %v", ids, err)
		}
	})

	t.Run("ClaimAndRecord", func(t *testing.T) {
		e := mustEndpoint(t, db, p.ID)
		defer db.DeleteWebhookEndpoint(ctx, p.ID, e.ID)
		for range 3 {
			if err := db.CreateWebhookMessage(ctx, &veil.WebhookMessage{EndpointID: e.ID, ProjectID: p.ID, EventType: "webhook.test", Payload: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := db.ClaimWebhookMessages(ctx, "w1", time.Minute, 10, 2)
		if err != nil || len(ds) != 2 || ds[0].Endpoint.ID != e.ID {
			t.Fatalf("claim: %d %v", len(ds), err)
		}
		if more, _ := db.ClaimWebhookMessages(ctx, "w2", time.Minute, 10, 2); len(more) != 0 {
			t.Fatalf("per-endpoint limit exceeded: %d", len(more))
		}
		next := clk.Now().Add(5 * time.Second)
		m0 := ds[0].Message.ID
		wantCode(t, second(db.RecordWebhookResult(ctx, &veil.WebhookResult{Holder: "w2", Attempt: veil.WebhookAttempt{MessageID: m0}})), veil.ECONFLICT)
		wantCode(t, second(db.RecordWebhookResult(ctx, &veil.WebhookResult{Holder: "w1", NextAttemptAt: &next,
			Attempt: veil.WebhookAttempt{MessageID: m0, At: clk.Now(), StatusCode: 500, Error: "HTTP 500", LatencyMS: 7}})), "")
		wantCode(t, second(db.RecordWebhookResult(ctx, &veil.WebhookResult{Holder: "w1", Delivered: true,
			Attempt: veil.WebhookAttempt{MessageID: ds[1].Message.ID, At: clk.Now(), StatusCode: 204}})), "")
		m, _ := db.FindWebhookMessage(ctx, p.ID, m0)
		if m.Status != veil.WebhookPending || m.Attempts != 1 || !m.NextAttemptAt.Equal(next.UTC().Truncate(time.Microsecond)) || m.LastStatus != 500 {
			t.Fatalf("retry state %+v", m)
		}
		ep, _ := db.FindWebhookEndpoint(ctx, p.ID, e.ID)
		if ep.FailingSince != nil {
			t.Fatalf("success did not clear failing_since: %v", ep.FailingSince)
		}
		as, _ := db.ListWebhookAttempts(ctx, m0)
		if len(as) != 1 || as[0].Attempt != 1 || as[0].LatencyMS != 7 {
			t.Fatalf("attempts %+v", as)
		}
		// The third message, then the retry once due.
		if ds, _ := db.ClaimWebhookMessages(ctx, "w2", time.Minute, 10, 2); len(ds) != 1 {
			t.Fatalf("claim third: %d", len(ds))
		}
		clk.Advance(5 * time.Second)
		ds, _ = db.ClaimWebhookMessages(ctx, "w2", time.Minute, 10, 2)
		if len(ds) != 1 || ds[0].Message.ID != m0 || ds[0].Message.Tries != 1 {
			t.Fatalf("claim retry: %+v", ds)
		}
		wantCode(t, second(db.RecordWebhookResult(ctx, &veil.WebhookResult{Holder: "w2", DisableEndpoint: "gone",
			Attempt: veil.WebhookAttempt{MessageID: m0, At: clk.Now(), StatusCode: 410}})), "")
		m, _ = db.FindWebhookMessage(ctx, p.ID, m0)
		ep, _ = db.FindWebhookEndpoint(ctx, p.ID, e.ID)
		if m.Status != veil.WebhookFailed || ep.Enabled || ep.DisabledReason != "gone" || ep.FailingSince == nil {
			t.Fatalf("after 410: %+v %+v", m, ep)
		}
		// Resend (endpoint re-enabled) keeps the id and starts a new schedule.
		ep.Description = "still disabled"
		wantCode(t, db.UpdateWebhookEndpoint(ctx, ep), "")
		if ep.FailingSince == nil {
			t.Fatal("an edit cleared failing_since")
		}
		ep.Enabled = true
		wantCode(t, db.UpdateWebhookEndpoint(ctx, ep), "")
		if ep.FailingSince != nil || ep.DisabledReason != "" {
			t.Fatalf("enabling kept the failure state: %+v", ep)
		}
		wantCode(t, db.ResendWebhookMessage(ctx, other.ID, m0), veil.ENOTFOUND)
		wantCode(t, db.ResendWebhookMessage(ctx, p.ID, m0), "")
		clk.Advance(2 * time.Minute) // the third message's lease expires too
		ds, _ = db.ClaimWebhookMessages(ctx, "w3", time.Minute, 10, 0)
		if len(ds) != 2 {
			t.Fatalf("claim after resend: %d", len(ds))
		}
	})

	t.Run("Prune", func(t *testing.T) {
		e := mustEndpoint(t, db, p.ID)
		defer db.DeleteWebhookEndpoint(ctx, p.ID, e.ID)
		var ids []string
		for range 2 {
			m := &veil.WebhookMessage{EndpointID: e.ID, ProjectID: p.ID, EventType: "webhook.test", Payload: []byte(`{}`)}
			if err := db.CreateWebhookMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		ds, _ := db.ClaimWebhookMessages(ctx, "w", time.Minute, 1, 0)
		wantCode(t, second(db.RecordWebhookResult(ctx, &veil.WebhookResult{Holder: "w", Delivered: true,
			Attempt: veil.WebhookAttempt{MessageID: ds[0].Message.ID, At: clk.Now(), StatusCode: 200}})), "")
		clk.Advance(time.Hour)
		n, err := db.DeleteWebhookMessagesBefore(ctx, clk.Now())
		if err != nil || n != 1 {
			t.Fatalf("pruned %d, %v", n, err)
		}
		_, err = db.FindWebhookMessage(ctx, p.ID, ds[0].Message.ID)
		wantCode(t, err, veil.ENOTFOUND)
		if as, _ := db.ListWebhookAttempts(ctx, ds[0].Message.ID); len(as) != 0 {
			t.Fatal("attempts of a pruned message remain")
		}
		pending := ids[0]
		if pending == ds[0].Message.ID {
			pending = ids[1]
		}
		if _, err := db.FindWebhookMessage(ctx, p.ID, pending); err != nil {
			t.Fatalf("pending message pruned: %v", err)
		}
	})

	t.Run("CascadeWithProject", func(t *testing.T) {
		q := MustCreateProject(t, db, org.ID, "gone")
		e := mustEndpoint(t, db, q.ID)
		if _, err := db.EmitWebhookEvent(ctx, veil.WebhookEvent{ProjectID: q.ID, Type: "session.started"}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.DeleteProject(ctx, org.ID, q.ID), "")
		_, err := db.FindWebhookEndpoint(ctx, q.ID, e.ID)
		wantCode(t, err, veil.ENOTFOUND)
	})
}

// second returns the error of a two-result call.
func second[T any](_ T, err error) error { return err }
