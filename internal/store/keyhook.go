package store

import "sync"

// keyHooks are the functions told when this DB has changed write keys.
type keyHooks struct {
	mu  sync.Mutex
	fns []func()
}

// OnKeysChanged registers fn, called after every change this DB makes to
// write keys (revocation, origins, deletion with their project or org),
// committed or not. Caches of verified keys in this process (ingest's)
// drop their entries on it, so such a change applies to the next request.
// Other processes and nodes are not told; see ingest.DefaultKeyTTL.
func (db *DB) OnKeysChanged(fn func()) {
	db.keyHooks.mu.Lock()
	db.keyHooks.fns = append(db.keyHooks.fns, fn)
	db.keyHooks.mu.Unlock()
}

// keysChanged calls the OnKeysChanged functions.
func (db *DB) keysChanged() {
	db.keyHooks.mu.Lock()
	fns := db.keyHooks.fns
	db.keyHooks.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}
