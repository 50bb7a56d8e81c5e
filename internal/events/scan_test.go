package events

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseTime(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // RFC 3339 in UTC; "" = rejected
	}{
		{"2012-12-02T00:30:08.276Z", "2012-12-02T00:30:08.276Z"},
		{"2012-12-02T00:30:08Z", "2012-12-02T00:30:08Z"},
		{"2012-12-02t00:30:08z", "2012-12-02T00:30:08Z"},
		{"2009-11-10T23:00:00+01:00", "2009-11-10T22:00:00Z"},
		{"2009-11-10T23:00:00.123456789-05:30", "2009-11-11T04:30:00.123456789Z"},
		{"2009-11-10T23:00:00.1234567891234Z", "2009-11-10T23:00:00.123456789Z"},
		{"2024-05-01T10:00:00.123456", "2024-05-01T10:00:00.123456Z"},
		{"2024-05-01 10:00:00+0000", "2024-05-01T10:00:00Z"},
		{"2024-05-01T10:00:00,5+02", "2024-05-01T08:00:00.5Z"},
		{"2024-05-01T10:00Z", "2024-05-01T10:00:00Z"},
		{"2015-2-02T00:30:08.276Z", "2015-02-02T00:30:08.276Z"},
		{"2015-02-2", "2015-02-02T00:00:00Z"},
		{"2024-05-01", "2024-05-01T00:00:00Z"},
		{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"},
		{"9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999Z"},
		{"9999-12-31T23:59:59-23:59", ""},
		{"0000-01-01T00:00:00+00:01", ""},
		{"2023-02-29T00:00:00Z", ""},
		{"2024-13-01T00:00:00Z", ""},
		{"2024-00-01T00:00:00Z", ""},
		{"2024-04-31T00:00:00Z", ""},
		{"2024-05-01T24:00:00Z", ""},
		{"2024-05-01T10:60:00Z", ""},
		{"2024-05-01T10:00:60Z", ""},
		{"2024-05-01T10:00:00.Z", ""},
		{"2024-05-01T10:00:00+2400", ""},
		{"2024-05-01T10:00:00+01:60", ""},
		{"2024-05-01T10:00:00+1", ""},
		{"2024-05-01T10:00:00Zjunk", ""},
		{"2024-05-01T10", ""},
		{"2024-05-01T1:00:00Z", ""},
		{"24-05-01", ""},
		{"20240501", ""},
		{"2024-005-01", ""},
		{"1714557600000", ""},
		{"yesterday", ""},
		{"", ""},
		{strings.Repeat("9", 65), ""},
	} {
		got, ok := parseTime([]byte(tt.in))
		if tt.want == "" {
			if ok {
				t.Errorf("parseTime(%q) = %v, want rejected", tt.in, got)
			}
			continue
		}
		if !ok || got.Location() != time.UTC || got.Format(time.RFC3339Nano) != tt.want {
			t.Errorf("parseTime(%q) = %v %v, want %s", tt.in, got, ok, tt.want)
		}
	}
}

// jsonCorpus holds valid and invalid JSON around every branch of the scanner.
var jsonCorpus = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+3`, `1E-2`, `true`, `false`, `null`, ` {"a" : [ 1 , 2 ] } `,
	`{"a":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"}`, `"\ud800"`, `"\uDFFF\u0041"`, "\"\xe2\x82\xac\"", "\"\xef\xbf\xbd\"",
	`"0123456789abcdef0123456789abcdef"`, "\"0123456789\xc3\xa9abcdef\"", `"abcdefg\"hij"`, `"abcdefgh\\"`,
	`{`, `}`, `[`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `{"a" 1}`, `{1:2}`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`,
	`+1`, `--1`, `tru`, `nul`, `falsee`, `"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\x00b\"", "\"a\x1fb\"", "\"\x7f\"",
	"\"\xff\"", "\"\xc3\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"abcdefgh\xc3\x28\"", "\"\xe2\x82\"",
	`"abcdefghijklmnopqrstuvwxyz\`, `{"a":1}{"b":2}`, `[1 2]`, `[1,,2]`, "\t\n\r {}", "{}\x00",
}

// scanValid runs the scanner the way Parse does on a whole value.
func scanValid(b []byte) bool {
	s := scanner{b: b, maxDepth: 1 << 30, maxStr: 1 << 30, long: -1}
	i := skipWS(b, 0)
	end := s.value(i, 0)
	return end >= 0 && skipWS(b, end) == len(b)
}

func TestScan_MatchesEncodingJSON(t *testing.T) {
	for _, in := range jsonCorpus {
		want := json.Valid([]byte(in)) && utf8.ValidString(in)
		if got := scanValid([]byte(in)); got != want {
			t.Errorf("scan(%q) = %v, json.Valid && utf8.Valid = %v", in, got, want)
		}
	}
}

// FuzzScan checks the scanner against encoding/json: the same documents are
// valid (encoding/json does not check UTF-8; Veil rejects invalid UTF-8),
// and strings decode to the same text.
func FuzzScan(f *testing.F) {
	for _, in := range jsonCorpus {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b) && utf8.Valid(b)
		if got := scanValid(b); got != want {
			t.Fatalf("scan(%q) = %v, want %v", b, got, want)
		}
		if !want {
			return
		}
		if i := skipWS(b, 0); b[i] == '"' {
			var s string
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			end := len(b)
			for end > 0 && b[end-1] != '"' {
				end--
			}
			if got := string(unquote(nil, b[i:end])); got != s {
				t.Fatalf("unquote(%q) = %q, encoding/json %q", b, got, s)
			}
		}
	})
}

func BenchmarkScan(b *testing.B) {
	body := []byte(`{"batch":[` + strings.Repeat(`{"event":"Order Completed","properties":{"orderId":"ord_0000001",`+
		`"total":129.95,"currency":"USD","products":[{"sku":"SKU-0001","name":"Wool Socks","price":12.5,"quantity":2}],`+
		`"coupon":null},"userId":"user_000001","type":"track","context":{"library":{"name":"@segment/analytics-node",`+
		`"version":"2.1.2"},"page":{"referrer":"https://shop.example.com/cart"}},"integrations":{},`+
		`"timestamp":"2024-05-01T10:00:01.001Z","messageId":"node-next-1714557600001-2b6c0f0e-8d2a-4c61-9d2f-000000000001"},`, 99) +
		`{}]}`)
	b.SetBytes(int64(len(body)))
	var mem []member
	for b.Loop() {
		s := scanner{b: body, maxDepth: 64, maxStr: 1 << 20, long: -1}
		mem = mem[:0]
		if s.object(0, 1, &mem) < 0 {
			b.Fatal(s.err)
		}
	}
}
