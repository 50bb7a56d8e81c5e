package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

func testKey(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	web, api := MustCreateProject(t, db, org.ID, "web"), MustCreateProject(t, db, org.ID, "api")
	k1 := MustCreateKey(t, db, web.ID, "veil_wk_aaaa")
	if !strings.HasPrefix(k1.ID, "key_") || !k1.CreatedAt.Equal(now(clk)) || k1.Revoked() {
		t.Fatalf("created key = %+v", k1)
	}

	t.Run("Create", func(t *testing.T) {
		tests := []struct {
			name string
			k    veil.WriteKey
			want string
		}{
			{"OK", veil.WriteKey{ProjectID: web.ID, Kind: veil.KeyServer, Prefix: "veil_sk_bbbb", Hash: []byte{1, 2}}, ""},
			{"OKOrigins", veil.WriteKey{ProjectID: api.ID, Kind: veil.KeyBrowser, Prefix: "veil_wk_cccc", Hash: []byte{3},
				Origins: []string{"https://a.example", "https://b.example:8443"}}, ""},
			{"ErrKind", veil.WriteKey{ProjectID: web.ID, Kind: "root", Prefix: "p1", Hash: []byte{1}}, veil.EINVALID},
			{"ErrHashRequired", veil.WriteKey{ProjectID: web.ID, Kind: veil.KeyServer, Prefix: "p2"}, veil.EINVALID},
			{"ErrPrefixRequired", veil.WriteKey{ProjectID: web.ID, Kind: veil.KeyServer, Hash: []byte{1}}, veil.EINVALID},
			{"ErrProjectNotFound", veil.WriteKey{ProjectID: "prj_missing", Kind: veil.KeyServer, Prefix: "p3", Hash: []byte{1}}, veil.ENOTFOUND},
			// Prefixes identify keys globally, so a clash across projects conflicts too.
			{"ErrDuplicatePrefix", veil.WriteKey{ProjectID: api.ID, Kind: veil.KeyServer, Prefix: "veil_wk_aaaa", Hash: []byte{1}}, veil.ECONFLICT},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				clk.Advance(time.Second) // ListKeys orders by creation time
				k := tt.k
				wantCode(t, db.CreateKey(ctx, &k), tt.want)
				if tt.want != "" {
					return
				}
				got, err := db.FindKeyByPrefix(ctx, k.Prefix)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(&k, got, equateEmpty); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("FindByPrefixErrNotFound", func(t *testing.T) {
		_, err := db.FindKeyByPrefix(ctx, "veil_wk_zzzz")
		wantCode(t, err, veil.ENOTFOUND)
	})

	t.Run("List", func(t *testing.T) {
		tests := []struct {
			name      string
			projectID string
			want      []string
		}{
			{"Web", web.ID, []string{"veil_wk_aaaa", "veil_sk_bbbb"}},
			{"API", api.ID, []string{"veil_wk_cccc"}},
			{"UnknownProject", "prj_missing", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ks, err := db.ListKeys(ctx, tt.projectID)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, k := range ks {
					got = append(got, k.Prefix)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		at := time.Date(2026, 4, 1, 12, 0, 0, 999_999_999, time.FixedZone("X", -7200))
		tests := []struct {
			name      string
			projectID string
			keyID     string
			want      string
		}{
			{"ErrOtherProject", api.ID, k1.ID, veil.ENOTFOUND}, // tenant scoping
			{"ErrNotFound", web.ID, "key_missing", veil.ENOTFOUND},
			{"OK", web.ID, k1.ID, ""},
			{"Again", web.ID, k1.ID, ""},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// Each call passes a later time; only the first revoke counts.
				wantCode(t, db.RevokeKey(ctx, tt.projectID, tt.keyID, at.Add(time.Duration(i)*time.Hour)), tt.want)
			})
		}
		got, err := db.FindKeyByPrefix(ctx, k1.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		want := at.Add(2 * time.Hour).UTC().Truncate(time.Microsecond)
		if got.RevokedAt == nil || !got.RevokedAt.Equal(want) || got.RevokedAt.Location() != time.UTC {
			t.Fatalf("RevokedAt = %v, want %v UTC", got.RevokedAt, want)
		}
	})
}
