package ingest

import (
	"bytes"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []*record{
		{kind: kindEvents, id: "rec1", orgID: "org_1", projectID: "prj_1", body: []byte("sealed")},
		{kind: kindSegment, id: "rec2", orgID: "org_1", projectID: "prj_1", sessionID: "s-1", seq: 7, meta: []byte("m"), body: []byte("b")},
		{kind: kindSegment, id: "rec3", orgID: "o", projectID: "p", sessionID: "s", seq: 0},
	} {
		got, err := decodeRecord(r.encode())
		if err != nil {
			t.Fatal(err)
		}
		if got.kind != r.kind || got.id != r.id || got.orgID != r.orgID || got.projectID != r.projectID || got.sessionID != r.sessionID ||
			got.seq != r.seq || !bytes.Equal(got.meta, r.meta) || !bytes.Equal(got.body, r.body) {
			t.Fatalf("round trip: got %+v, want %+v", got, r)
		}
	}
	for _, bad := range [][]byte{nil, {1}, {2, 1}, {1, 9}, {1, 1, 200}, {1, 2, 1, 'a', 1, 'o', 1, 'p', 0, 0, 0}} {
		if _, err := decodeRecord(bad); err == nil {
			t.Errorf("decodeRecord(%v) accepted", bad)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add((&record{kind: kindSegment, id: "r", orgID: "o", projectID: "p", sessionID: "s", seq: 3, meta: []byte("m"), body: []byte("b")}).encode())
	f.Add((&record{kind: kindEvents, id: "r", orgID: "o", projectID: "p", body: []byte("b")}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		again, err := decodeRecord(r.encode())
		if err != nil || again.seq != r.seq || !bytes.Equal(again.body, r.body) {
			t.Fatalf("re-encode changed the record: %v", err)
		}
	})
}
