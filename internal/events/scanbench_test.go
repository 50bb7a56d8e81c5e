package events

import (
	"testing"
)

func BenchmarkScanOnly(b *testing.B) {
	body := []byte(`{"batch":[`)
	for i := 0; i < 100; i++ {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `{"event":"Order Completed","properties":{"orderId":"ord_0000001","total":129.95,"currency":"USD","products":[{"sku":"SKU-0001","name":"Wool Socks","price":12.5,"quantity":2},{"sku":"SKU-2210","name":"Rain Jacket","price":104.95,"quantity":1}],"coupon":null,"shipping":"standard"},"userId":"user_000001","type":"track","context":{"library":{"name":"@segment/analytics-node","version":"2.1.2"},"ip":"203.0.113.1","page":{"path":"/checkout/complete","referrer":"https://shop.example.com/cart"}},"integrations":{},"timestamp":"2024-05-01T10:00:01.001Z","messageId":"node-next-1714557600001-2b6c0f0e-8d2a-4c61-9d2f-000000000001","_metadata":{"nodeVersion":"20.11.1","jsRuntime":"node"}}`...)
	}
	body = append(body, `]}`...)
	b.SetBytes(int64(len(body)))
	var mem []member
	for b.Loop() {
		s := scanner{b: body, maxDepth: 64, maxStr: 1 << 20}
		mem = mem[:0]
		if s.object(0, 1, &mem) < 0 {
			b.Fatal(s.err)
		}
	}
}
