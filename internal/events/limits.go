package events

import (
	"strconv"

	"github.com/veil-privacy/veil"
)

// Limits bounds what Parse accepts. A zero field takes its default.
type Limits struct {
	// MaxMessage is the largest message in bytes as received: the whole
	// body of a single-message endpoint, or one element of a batch.
	// Segment's limit is 32 KB. At most 1 GiB, as is MaxBatch.
	MaxMessage int
	// MaxBatch is the largest batch body in bytes. Segment's limit is
	// 500 KB. Merging batch-level context and integrations into each
	// message may at most double it.
	MaxBatch int
	// MaxDepth is the deepest nesting of objects and arrays, counted from
	// the message (or batch envelope) object, which is level 1. At most
	// 1000 (the scanner recurses once per level).
	MaxDepth int
	// MaxStringLen is the longest string (value or field name) in bytes as
	// sent, escapes included. By default it is MaxMessage: Segment has no
	// such limit, so it is only for operators who want one.
	MaxStringLen int
	// MaxBatchMessages is the most messages one batch may hold.
	MaxBatchMessages int
}

// Default limits. The sizes are Segment's (analytics-node counts a KB as
// 1024 bytes); the others bound work and memory on hostile input and are
// far above what Segment's libraries send.
const (
	DefaultMaxMessage       = 32 << 10
	DefaultMaxBatch         = 500 << 10
	DefaultMaxDepth         = 64
	DefaultMaxStringLen     = DefaultMaxMessage
	DefaultMaxBatchMessages = 2500
)

// DefaultLimits returns Segment's limits.
func DefaultLimits() Limits {
	return Limits{
		MaxMessage:       DefaultMaxMessage,
		MaxBatch:         DefaultMaxBatch,
		MaxDepth:         DefaultMaxDepth,
		MaxStringLen:     DefaultMaxStringLen,
		MaxBatchMessages: DefaultMaxBatchMessages,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxMessage <= 0 {
		l.MaxMessage = d.MaxMessage
	}
	if l.MaxBatch <= 0 {
		l.MaxBatch = d.MaxBatch
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	// Offsets into the body are int32; the scanner recurses once per level.
	l.MaxMessage, l.MaxBatch = min(l.MaxMessage, 1<<30), min(l.MaxBatch, 1<<30)
	l.MaxDepth = min(l.MaxDepth, 1000)
	if l.MaxStringLen <= 0 {
		l.MaxStringLen = l.MaxMessage
	}
	if l.MaxBatchMessages <= 0 {
		l.MaxBatchMessages = d.MaxBatchMessages
	}
	return l
}

// Overhead bounds what Parse adds to a message: the type, messageId,
// timestamp, originalTimestamp, sentAt and receivedAt fields and quotes
// around numeric identifiers. A stored Message.JSON is never longer than
// Limits.MaxMessage + Overhead bytes, batch context merged in included.
const Overhead = 512

// size formats a limit for a client: "32 KB" when it is a whole number
// of KB, else bytes.
func size(n int) string {
	if n%1024 == 0 {
		return strconv.Itoa(n/1024) + " KB"
	}
	return strconv.Itoa(n) + " bytes"
}

func tooLargeMessage(i, n, limit int) error {
	if i < 0 {
		return veil.Errorf(veil.ETOOLARGE, "message is %d bytes; the limit is %s per message", n, size(limit))
	}
	return veil.Errorf(veil.ETOOLARGE, "message %d is %d bytes; the limit is %s per message", i, n, size(limit))
}
