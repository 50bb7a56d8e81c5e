package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/veil-privacy/veil/internal/loadgen"
)

// BenchmarkIngestBatch measures the whole HTTP path for Segment batches of
// 100 events of ~600 bytes, with the log's fsync on, many senders at once.
func BenchmarkIngestBatch(b *testing.B) {
	e := newEnvB(b)
	var n atomic.Int64
	pad := strings.Repeat("x", 140)
	body := func() []byte {
		i := n.Add(1)
		var sb strings.Builder
		sb.WriteString(`{"batch":[`)
		for j := 0; j < 100; j++ {
			if j > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"type":"track","event":"Product Viewed","messageId":"m-%d-%d","anonymousId":"a-%d","properties":{"product_id":"sku-1042","category":"Games","price":18.99,"currency":"USD","position":3,"pad":%q},"context":{"library":{"name":"bench","version":"1"},"page":{"path":"/products/1042","title":"Catalog"},"locale":"en-US"},"timestamp":"2026-11-23T10:00:00Z"}`, i, j, j, pad)
		}
		sb.WriteString(`]}`)
		return []byte(sb.String())
	}
	sample := body()
	b.SetBytes(int64(len(sample)))
	b.ReportAllocs()
	b.SetParallelism(8) // many senders, as in production: group commit needs company
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/batch", bytes.NewReader(body()))
			req.SetBasicAuth(e.project.ServerKey, "")
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("batch: %v %v", err, res.Status)
			}
			res.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIngestReplay measures gzip rrweb segments of ~32 KB of JSON,
// posted as the SDK does ({"events":[…],"meta":{…}}).
func BenchmarkIngestReplay(b *testing.B) {
	e := newEnvB(b)
	plain := loadgen.SyntheticSegment(32<<10, 1)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(loadgen.SDKBody(plain)) // the SDK's upload shape
	zw.Close()
	var n atomic.Int64
	b.SetBytes(int64(len(plain)))
	b.SetParallelism(8) // many senders, as in production: group commit needs company
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			url := fmt.Sprintf("%s/v1/replay?session=bench-sess-%d&seq=%d", e.srv.URL, i/60, i%60)
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(gz.Bytes()))
			req.SetBasicAuth(e.project.ServerKey, "")
			req.Header.Set("Content-Encoding", "gzip")
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("replay: %v %v", err, res.Status)
			}
			res.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N*gz.Len())/b.Elapsed().Seconds()/1e6, "wireMB/s")
}

func newEnvB(b *testing.B) *env {
	e := newEnvTB(b, nil)
	go func() {
		ctx, cancel := context.WithCancel(context.Background())
		b.Cleanup(cancel)
		e.packer.Run(ctx)
	}()
	return e
}
