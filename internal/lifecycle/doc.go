// Package lifecycle deletes, keeps and copies recorded data on purpose:
// deleting one recording (crypto-shredding), compaction of pack objects,
// retention per project, per-user erasure and export (GDPR articles 15,
// 17 and 20), and backups.
//
// # Deleting a recording
//
// A session's segments are sealed with its own key, stored only wrapped by
// the project key in the sessions row. DeleteSession overwrites that
// wrapped key, deletes the row and its segment index and records a
// tombstone in the deletion ledger, all in one store transaction: from its
// commit on, no key Veil holds opens the session's bytes. The sealed bytes
// stay inside their pack objects until Compact rewrites each pack without
// its dead ranges (or deletes a pack with nothing live left).
//
// # Jobs
//
// Compact and RunRetention take a store lease first (AcquireLease), so
// across any number of nodes at most one runs each job at a time. Both
// work in bounded batches and can be stopped and re-run at any point: each
// step is either idempotent or guarded by the store.
//
// docs/data-lifecycle.md states each guarantee precisely.
package lifecycle
