package lifecycle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/webhook"
)

// TestExportUser_EmitsExportCompleted: a finished user export queues
// export.completed with kind, counts, size and the actor's id, and nothing
// that names the subject.
func TestExportUser_EmitsExportCompleted(t *testing.T) {
	ctx := audit.WithActor(context.Background(), audit.Actor{Kind: audit.ActorUser, ID: "usr_dpo"})
	e := newEnv(t)
	pid := e.project.ProjectID
	e.replay("user1-session-a", 1, "u-1", day0)
	e.track("u-1", "", "Bought", day0)
	e.pack()
	ep := &veil.WebhookEndpoint{ProjectID: pid, URL: "https://hooks.example/x", EventTypes: []string{webhook.ExportCompleted},
		Enabled: true, SealedSecret: []byte("sealed")}
	if err := e.db.CreateWebhookEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	var zbuf bytes.Buffer
	if _, err := e.svc.ExportUser(ctx, pid, "u-1", &zbuf); err != nil {
		t.Fatal(err)
	}
	msgs, err := e.db.ListWebhookMessages(ctx, pid, ep.ID, 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d messages (%v), want 1", len(msgs), err)
	}
	var body struct {
		Type string             `json:"type"`
		Data webhook.ExportData `json:"data"`
	}
	if err := json.Unmarshal(msgs[0].Payload, &body); err != nil {
		t.Fatal(err)
	}
	d := body.Data
	want := webhook.ExportData{ProjectID: pid, ExportID: d.ExportID, Kind: "user", Format: "zip", Events: 1, Sessions: 1,
		Bytes: int64(zbuf.Len()), ActorKind: audit.ActorUser, ActorID: "usr_dpo", CompletedAt: d.CompletedAt}
	if body.Type != webhook.ExportCompleted || d != want || !strings.HasPrefix(d.ExportID, "exp_") || d.CompletedAt.IsZero() {
		t.Fatalf("export.completed = %s\nwant data %+v", msgs[0].Payload, want)
	}
	if p := string(msgs[0].Payload); strings.Contains(p, "u-1") || strings.Contains(p, "user_id:") {
		t.Fatalf("payload names the subject: %s", p)
	}
}
