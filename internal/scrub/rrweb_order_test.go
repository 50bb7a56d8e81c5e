package scrub_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/veil-privacy/veil/internal/scrub"
)

// TestRRWeb_KeyOrder covers the single-pass walk where the facts that
// decide a value come after it: tagName and type after attributes, the
// type attribute after the value, the event type after its data (the
// event is walked again when a rule fired that its type does not allow),
// duplicate keys (the first one is the fact, as a reader would see it).
func TestRRWeb_KeyOrder(t *testing.T) {
	s := mustScrubber(t, scrub.Rules{})
	for _, tc := range []struct {
		name      string
		in, want  string
		redaction int // sensitive_field count
	}{
		{
			name:      "TypeAfterData",
			in:        `[{"data":{"node":{"attributes":{"value":"hunter2","type":"password"},"childNodes":[],"id":7,"tagName":"input","type":2}},"type":2},{"data":{"source":5,"id":7,"text":"hunter22"},"type":3}]`,
			want:      `[{"data":{"node":{"attributes":{"value":"*******","type":"password"},"childNodes":[],"id":7,"tagName":"input","type":2}},"type":2},{"data":{"source":5,"id":7,"text":"********"},"type":3}]`,
			redaction: 2,
		},
		{
			name: "NodeRulesOnlyInFullSnapshots",
			in:   `[{"data":{"node":{"attributes":{"value":"hunter2","type":"password"},"childNodes":[],"id":7,"tagName":"input","type":2}},"type":5}]`,
			want: `[{"data":{"node":{"attributes":{"value":"hunter2","type":"password"},"childNodes":[],"id":7,"tagName":"input","type":2}},"type":5}]`,
		},
		{
			name:      "IDLearnedLaterInTheEvent",
			in:        `[{"data":{"texts":[{"value":"x","id":7}],"source":0,"attributes":[{"attributes":{"value":"y","name":"password"},"id":7}]},"type":3},{"data":{"id":7,"text":"abc","source":5},"type":3}]`,
			want:      `[{"data":{"texts":[{"value":"x","id":7}],"source":0,"attributes":[{"attributes":{"value":"*","name":"password"},"id":7}]},"type":3},{"data":{"id":7,"text":"***","source":5},"type":3}]`,
			redaction: 2,
		},
		{
			name: "FirstAttributesDecide",
			in:   `[{"type":2,"data":{"node":{"type":2,"tagName":"input","attributes":{"value":"a"},"attributes":{"value":"b","type":"password"},"id":3}}}]`,
			want: `[{"type":2,"data":{"node":{"type":2,"tagName":"input","attributes":{"value":"a"},"attributes":{"value":"b","type":"password"},"id":3}}}]`,
		},
		{
			name:      "StructuredValueBeforeAutocomplete",
			in:        `[{"type":2,"data":{"node":{"type":2,"tagName":"select","attributes":{"value":{"x":"a@b.com","n":[1,"z"]},"autocomplete":"off cc-number"},"childNodes":[{"type":2,"tagName":"option","attributes":{"value":"4111111111111111"},"childNodes":[],"id":5}],"id":4}}}]`,
			want:      `[{"type":2,"data":{"node":{"type":2,"tagName":"select","attributes":{"value":{"x":"*******","n":["*","*"]},"autocomplete":"off cc-number"},"childNodes":[{"type":2,"tagName":"option","attributes":{"value":"****************"},"childNodes":[],"id":5}],"id":4}}}]`,
			redaction: 3,
		},
		{
			name:      "NestedPendingValues",
			in:        `[{"data":{"node":{"childNodes":[{"attributes":{"value":"v1","id":"user_password"},"childNodes":[{"attributes":{"value":"inner","type":"password"},"tagName":"input","type":2,"id":12}],"id":11,"tagName":"textarea","type":2}],"type":0,"id":10}},"type":2},{"data":{"source":5,"id":11,"text":"t"},"type":3},{"data":{"source":5,"id":12,"text":"t2"},"type":3}]`,
			want:      `[{"data":{"node":{"childNodes":[{"attributes":{"value":"**","id":"user_password"},"childNodes":[{"attributes":{"value":"*****","type":"password"},"tagName":"input","type":2,"id":12}],"id":11,"tagName":"textarea","type":2}],"type":0,"id":10}},"type":2},{"data":{"source":5,"id":11,"text":"*"},"type":3},{"data":{"source":5,"id":12,"text":"**"},"type":3}]`,
			redaction: 4,
		},
		{
			name:      "AddedThenMutated",
			in:        `[{"data":{"adds":[{"node":{"type":2,"tagName":"input","attributes":{"value":"secretvalue","autocomplete":"current-password"},"id":40}}],"attributes":[{"id":40,"attributes":{"value":"later"}}],"source":0},"type":3}]`,
			want:      `[{"data":{"adds":[{"node":{"type":2,"tagName":"input","attributes":{"value":"***********","autocomplete":"current-password"},"id":40}}],"attributes":[{"id":40,"attributes":{"value":"*****"}}],"source":0},"type":3}]`,
			redaction: 2,
		},
		{
			name: "WrongSourceUndoesTheID",
			in:   `[{"data":{"adds":[{"node":{"type":2,"tagName":"input","attributes":{"value":"secretvalue","autocomplete":"current-password"},"id":40}}],"source":2},"type":3},{"type":3,"data":{"source":5,"id":40,"text":"x"}}]`,
			want: `[{"data":{"adds":[{"node":{"type":2,"tagName":"input","attributes":{"value":"secretvalue","autocomplete":"current-password"},"id":40}}],"source":2},"type":3},{"type":3,"data":{"source":5,"id":40,"text":"x"}}]`,
		},
		{
			name:      "FirstTypeCounts",
			in:        `[{"data":{"node":{"type":2,"tagName":"input","attributes":{"type":"password","value":"q"},"id":1}},"type":2,"type":3}]`,
			want:      `[{"data":{"node":{"type":2,"tagName":"input","attributes":{"type":"password","value":"*"},"id":1}},"type":2,"type":3}]`,
			redaction: 1,
		},
		{
			name: "TypeMustBeANumber",
			in:   `[{"type":"2","data":{"node":{"type":2,"tagName":"input","attributes":{"type":"password","value":"q"},"id":1}}}]`,
			want: `[{"type":"2","data":{"node":{"type":2,"tagName":"input","attributes":{"type":"password","value":"q"},"id":1}}}]`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for pass := 0; pass < 2; pass++ { // cold, then warm caches
				out, rep, err := s.RRWeb([]byte(tc.in))
				if err != nil || string(out) != tc.want || rep[scrub.DetField] != tc.redaction {
					t.Fatalf("pass %d:\n got %s (%v, %v)\nwant %s (%d)", pass, out, rep, err, tc.want, tc.redaction)
				}
			}
		})
	}
	// A rejected batch leaves the session state as it was.
	var st scrub.ReplayState
	bad := `[{"type":2,"data":{"node":{"type":2,"tagName":"input","attributes":{"type":"password"},"id":9}}},{"type":`
	if _, _, err := s.RRWebSession(&st, []byte(bad)); err == nil {
		t.Fatal("truncated batch accepted")
	}
	if out, _, _ := s.RRWebSession(&st, []byte(`[{"type":3,"data":{"source":5,"id":9,"text":"kept"}}]`)); !bytes.Contains(out, []byte("kept")) {
		t.Errorf("id from a rejected batch kept: %s", out)
	}
}

// TestWarmEqualsCold checks that the per-walker caches and memos (keys,
// clean values) never change a result: every corpus document scrubbed by
// a long-lived Scrubber equals the result of a fresh one.
func TestWarmEqualsCold(t *testing.T) {
	warm := mustScrubber(t, scrub.Rules{})
	corpus := buildCorpus(21, 1)
	for round := 0; round < 2; round++ {
		for i, sm := range corpus {
			if i%4 != round {
				continue
			}
			cold := mustScrubber(t, scrub.Rules{})
			a, ra, ea := scrubSample(warm, sm)
			b, rb, eb := scrubSample(cold, sm)
			if !bytes.Equal(a, b) || ra.Total() != rb.Total() || (ea == nil) != (eb == nil) {
				t.Fatalf("warm and cold differ on %s\nwarm %s %v\ncold %s %v", sm.msg, a, ra, b, rb)
			}
		}
	}
	// Keys and values that share their first bytes with memoised ones.
	for _, in := range []string{
		`{"pass":"x","password":"y","passwords":"z","pas":"w"}`,
		`["bob","bob@example.com","bob","bo","bob@example.com"]`,
		`{"id":"1","idx":"2","id":"3","ids":"4"}`,
		`{"token" :"a","token":"b","tokens":"c","tok":"d"}`,
		`{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com"}`,
	} {
		for k := 0; k < 3; k++ {
			a, _, _ := warm.JSON([]byte(in))
			b, _, _ := mustScrubber(t, scrub.Rules{}).JSON([]byte(in))
			if !bytes.Equal(a, b) {
				t.Fatalf("warm and cold differ on %s:\n%s\n%s", in, a, b)
			}
		}
	}
}

// TestConcurrentUse scrubs the same documents from several goroutines with
// one Scrubber (walkers, caches and memos are pooled per call) and expects
// the sequential results.
func TestConcurrentUse(t *testing.T) {
	s := mustScrubber(t, scrub.Rules{})
	corpus := buildCorpus(33, 1)
	want := make([][]byte, len(corpus))
	for i, sm := range corpus {
		want[i], _, _ = scrubSample(s, sm)
	}
	errs := make(chan string, 4)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := range corpus {
				i := (k*7 + g*13) % len(corpus)
				if got, _, _ := scrubSample(s, corpus[i]); !bytes.Equal(got, want[i]) {
					errs <- string(corpus[i].msg)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent result differs for %s", e)
	}
}
