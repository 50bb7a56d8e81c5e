package lifecycle

import "testing"

func TestMatchUser(t *testing.T) {
	tests := []struct {
		name, line string
		want       bool
	}{
		{"userId", `{"userId":"u-1"}`, true},
		{"anonymousId", `{"anonymousId":"u-1"}`, true},
		{"numeric id", `{"userId":42}`, false},
		{"traits email", `{"traits":{"email":"Jane@Example.com"}}`, true},
		{"context traits email", `{"context":{"traits":{"email":"jane@example.COM"}}}`, true},
		{"other user", `{"userId":"u-10"}`, false},
		{"mentioned in a property only", `{"userId":"u-2","properties":{"friend":"u-1"}}`, false},
		{"not JSON", `u-1`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "u-1"
			if tt.name == "traits email" || tt.name == "context traits email" {
				id = "jane@example.com"
			}
			if got := matchUser([]byte(tt.line), id); got != tt.want {
				t.Fatalf("matchUser(%s, %s) = %v, want %v", tt.line, id, got, tt.want)
			}
		})
	}
	if !matchUser([]byte(`{"userId":42}`), "42") {
		t.Fatal("numeric userId not matched")
	}
}
