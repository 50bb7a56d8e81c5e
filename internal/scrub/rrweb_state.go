package scrub

// ReplayState remembers, across the batches of one session, the node ids of
// inputs whose values are always masked. The zero value is ready to use;
// it is not safe for concurrent use.
type ReplayState struct {
	ids  map[int64]struct{}
	full bool // too many ids: mask every input from now on
}

const maxStateIDs = 1 << 16

func (st *ReplayState) reset() {
	clear(st.ids)
	st.full = false
}

// add records id and reports whether it was new.
func (st *ReplayState) add(id int64) bool {
	if st.full {
		return false
	}
	if st.ids == nil {
		st.ids = make(map[int64]struct{})
	}
	if _, ok := st.ids[id]; ok {
		return false
	}
	if len(st.ids) >= maxStateIDs {
		st.full = true
		return false
	}
	st.ids[id] = struct{}{}
	return true
}

func (st *ReplayState) has(id int64) bool {
	if st.full {
		return true
	}
	_, ok := st.ids[id]
	return ok
}
