// Usage: node send.mjs HOST WRITE_KEY
// Sends one message of every type with Segment's own Node library and
// prints the messageIds it acknowledged as JSON.
import { Analytics } from '@segment/analytics-node'

const [host, writeKey] = process.argv.slice(2)
const analytics = new Analytics({ writeKey, host, maxEventsInBatch: 10, flushInterval: 100, maxRetries: 2 })
const failures = []
analytics.on('error', (err) => failures.push(String(err && (err.code || err.message || err))))

const timestamp = new Date('2026-11-20T09:30:00Z')
const calls = [
  ['track', { messageId: 'node-track', userId: 'u-1', event: 'Signed Up', properties: { plan: 'pro', seats: 3 }, timestamp }],
  ['identify', { messageId: 'node-identify', userId: 'u-1', traits: { name: 'Synthetic User', tier: 'gold' }, timestamp }],
  ['page', { messageId: 'node-page', anonymousId: 'anon-1', name: 'Pricing', properties: { url: 'https://shop.example.com/pricing' }, timestamp }],
  ['screen', { messageId: 'node-screen', userId: 'u-1', name: 'Home', timestamp }],
  ['group', { messageId: 'node-group', userId: 'u-1', groupId: 'g-9', traits: { industry: 'retail' }, timestamp }],
  ['alias', { messageId: 'node-alias', userId: 'u-1', previousId: 'anon-1', timestamp }],
]
for (const [method, msg] of calls) analytics[method](msg)
await analytics.closeAndFlush({ timeout: 10000 })
console.log(JSON.stringify({ sent: calls.map(([, m]) => m.messageId), failures }))
process.exit(failures.length ? 1 : 0)
