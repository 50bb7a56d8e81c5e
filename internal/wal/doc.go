// Package wal is the ingest write-ahead log: ingest acknowledges a request
// (HTTP 200) only once its records are durable here, and the packer later
// replays them into long-term storage and trims the log. Records are opaque
// bytes, already scrubbed and encrypted; the log never looks inside them
// and never logs them.
//
// # Design summary
//
// Files. A log is a directory of segment files named by the LSN of their
// first record, "%020d.wal", so that name order is LSN order, plus a LOCK
// file (flock) that keeps a second process out. The writer appends to the
// last segment and starts a new one once SegmentSize would be exceeded.
// Little endian throughout:
//
//	header (24 B)  "VWAL" | version u32 = 1 | base LSN u64 | reserved u32 | CRC32C(previous 20 bytes)
//	record         length u32 | CRC32C(length bytes || payload) | payload
//
// LSNs number records 1, 2, 3, … across segments; a segment's header holds
// its first LSN and the rest follow by counting, so LSNs survive restarts
// and trimming without any other metadata.
//
// Group commit. Append encodes and checksums its records in the caller's
// goroutine and hands them to a single writer goroutine over an unbuffered
// channel. The writer takes one call, adds every other call already
// waiting (up to the group limit, 2×MaxRecord but at least 4 MiB), writes
// them with one pwritev, runs one fdatasync and wakes every caller. There
// is no timer: on an idle log a call is written at once, and the calls that
// arrive during a sync form the next group. A new segment is created with
// its header, fdatasynced, and the directory fsynced before any record
// goes into it.
//
// Failure semantics. A failed write or fdatasync (ENOSPC, EIO) fails the
// whole group with an error wrapping ErrUnavailable; the segment is
// truncated back to its last good size, so no partial record remains, no
// LSN is used, and the next Append tries again (it succeeds once space is
// back). Acknowledged records are never touched. Open verifies every
// checksum. Since each group is synced before the next is written, a crash
// can only damage the bytes after the last synced group, at the end of the
// last segment and at most one group long: Open truncates such a torn tail
// (reported in Stats.TruncatedBytes and a warning). Bad bytes anywhere else,
// a bad header, or segments that do not follow on, make Open fail with
// ErrCorrupt naming the file and offset, rather than drop records that
// were acknowledged. (A bit flip inside the last group's worth of bytes of
// the last segment cannot be told from a torn write and is truncated.)
//
// Reading. Replay reads only records that were durable when it started,
// verifying checksums, and may run alongside Append and Trim. Trim deletes
// whole segments, oldest first, and never the one being written.
package wal
