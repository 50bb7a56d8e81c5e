package store_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/store/storetest"
)

// TestStore_UpdateDestination edits a destination in place on each
// dialect: scoped by project, refused when it changed meanwhile, kind,
// mode, id and creation time untouched.
func TestStore_UpdateDestination(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := storetest.MustOpen(t, func(t *testing.T) *store.DB { return MustOpen(t, d.dsn(t)) })
			org := storetest.MustCreateOrg(t, db, "o")
			p := storetest.MustCreateProject(t, db, org.ID, "p")
			other := storetest.MustCreateProject(t, db, org.ID, "q")
			dst := &store.Destination{ProjectID: p.ID, Name: "lake", Kind: "s3", Mode: "do_not_store",
				Config: `{"s3":{"bucket":"old"}}`, SealedSecret: []byte("sealed-1")}
			if err := db.CreateDestination(ctx, dst); err != nil {
				t.Fatal(err)
			}
			prev, err := db.FindDestination(ctx, p.ID, dst.ID)
			if err != nil || prev.UpdatedAt != nil {
				t.Fatalf("find before update: %+v %v", prev, err)
			}
			upd := func(prev *store.Destination, cfg string) store.DestinationUpdate {
				return store.DestinationUpdate{Name: "lake 2", Config: cfg, SealedSecret: []byte("sealed-2"),
					AgeRecipient: "age1x", Prev: prev, RetryNow: true}
			}
			stale := *prev
			stale.SealedSecret = []byte("sealed-0")
			for _, tt := range []struct {
				name      string
				projectID string
				id        string
				u         store.DestinationUpdate
				code      string
			}{
				{"OtherProject", other.ID, dst.ID, upd(prev, `{"s3":{"bucket":"x"}}`), veil.ENOTFOUND},
				{"UnknownID", p.ID, "dst_missing", upd(&store.Destination{ID: "dst_missing"}, `{}`), veil.ENOTFOUND},
				{"NoPrev", p.ID, dst.ID, store.DestinationUpdate{Config: `{}`, SealedSecret: []byte("s")}, veil.EINVALID},
				{"StaleSecret", p.ID, dst.ID, upd(&stale, `{"s3":{"bucket":"x"}}`), veil.ECONFLICT},
				{"OK", p.ID, dst.ID, upd(prev, `{"s3":{"bucket":"new"}}`), ""},
				// prev was read before OK changed it.
				{"ChangedMeanwhile", p.ID, dst.ID, upd(prev, `{"s3":{"bucket":"y"}}`), veil.ECONFLICT},
			} {
				t.Run(tt.name, func(t *testing.T) {
					got, err := db.UpdateDestination(ctx, tt.projectID, tt.id, tt.u)
					if veil.ErrorCode(err) != tt.code || (tt.code == "" && err != nil) {
						t.Fatalf("err = %v, want code %q", err, tt.code)
					}
					if tt.code != "" {
						return
					}
					if got.Config != tt.u.Config || got.Name != "lake 2" || !bytes.Equal(got.SealedSecret, []byte("sealed-2")) ||
						got.AgeRecipient != "age1x" || got.UpdatedAt == nil {
						t.Fatalf("updated = %+v", got)
					}
					if got.Kind != "s3" || got.Mode != "do_not_store" || got.ID != dst.ID || !got.CreatedAt.Equal(prev.CreatedAt) {
						t.Fatalf("kind, mode, id or creation changed: %+v", got)
					}
				})
			}
			if got, err := db.FindDestination(ctx, p.ID, dst.ID); err != nil || got.Config != `{"s3":{"bucket":"new"}}` {
				t.Fatalf("after the table: %+v %v", got, err)
			}
		})
	}
}
