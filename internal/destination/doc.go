// Package destination pushes finished recordings to customer storage, an
// S3-compatible bucket or an SFTP server, and implements "do not store".
//
// A destination belongs to a project. Its settings are stored in clear,
// its credentials sealed with the project data key (bound to the
// destination id). SFTP servers are reached only if they present the
// pinned host key. With an age recipient, every pushed object is
// encrypted to it, so the bucket's operator cannot read it.
//
// The push job (RunOnce, run by every veil serve node) works per
// destination under a store lease, so two nodes never push to the same
// destination at once:
//
//  1. a session whose newest segment was packed more than IdleTimeout ago
//     gets a pending push row per destination (part 1; segments packed
//     later make part 2, …);
//  2. each due push decrypts the part's segments, writes
//     <prefix>/<project>/<yyyy>/<mm>/<dd>/<session>/events.json.gz and
//     manifest.json (".age" appended when encrypted), reads each object
//     back to check its size and SHA-256, and marks the row done with
//     recording.pushed in the same store transaction; a failure is retried
//     with exponential backoff and jitter, never given up, and after
//     AlertAfter failures raises the destination's alert and emits
//     destination.failed;
//  3. in a project with a do_not_store destination, a session that every
//     destination of the project received completely is crypto-shredded
//     (store.ShredPushedSession) and its packs compacted; the done push
//     rows stay as the stub saying where it went.
//
// docs/data-lifecycle.md states the guarantees.
package destination
