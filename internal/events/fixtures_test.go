package events_test

import (
	"fmt"
	"strings"
)

// nodeTrack returns a synthetic track message shaped like the ones
// @segment/analytics-node sends (about 600 bytes): messageId
// "node-next-<ms>-<uuid>", context.library, empty integrations,
// toISOString timestamps and _metadata.
func nodeTrack(i int) string {
	return fmt.Sprintf(`{"event":"Order Completed","properties":{"orderId":"ord_%08x","total":%d.95,"currency":"USD",`+
		`"products":[{"sku":"SKU-%04d","name":"Wool Socks","price":12.5,"quantity":2},{"sku":"SKU-2210","name":"Rain Jacket","price":104.95,"quantity":1}],`+
		`"coupon":null,"shipping":"standard"},"userId":"user_%06d","type":"track",`+
		`"context":{"library":{"name":"@segment/analytics-node","version":"2.1.2"},"ip":"203.0.113.%d","page":{"path":"/checkout/complete","referrer":"https://shop.example.com/cart"}},`+
		`"integrations":{},"timestamp":"2024-05-01T10:00:%02d.%03dZ","messageId":"node-next-1714557600%03d-2b6c0f0e-8d2a-4c61-9d2f-%012x",`+
		`"_metadata":{"nodeVersion":"20.11.1","jsRuntime":"node"}}`,
		i, 20+i%200, i%9999, i, i%250, i%60, i%1000, i%1000, i)
}

// nodeBatch is an analytics-node /v1/batch body: {"batch":[…],"sentAt":…}.
func nodeBatch(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"batch":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(nodeTrack(i))
	}
	b.WriteString(`],"sentAt":"2024-05-01T10:01:00.000Z"}`)
	return []byte(b.String())
}
