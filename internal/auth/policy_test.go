package auth

import (
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	const email = "Alice.Martin@Example.com"
	tests := []struct {
		name, password string
		wantErr        string // substring; "" = accepted
	}{
		{"OK", "correct horse battery", ""},
		{"OKUnicode", "çà et là, ©2026!", ""},
		{"TooShort", "Tr0ub4dor&3", "at least 12"},
		{"TooLong", strings.Repeat("ab", 200), "at most"},
		{"Repeated", "aaaaaaaaaaaaaaa", "too few"},
		{"Sequence", "abcdefghijklmn", "sequence"},
		{"DigitsSequence", "123456789012", "sequence"},
		{"Common", "password1234!", "too common"},
		{"CommonPrefixed", "2024qwertyuiop", "too common"},
		{"Email", "alice.martin@example.com", "e-mail"},
		{"EmailLocal", "xx-Alice.Martin-xx", "e-mail"},
		{"EmailDomain", "my example password", "e-mail"},
		{"InvalidUTF8", "abcdefghijk\xff\xfe", "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.password, email)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
