package store

// SetTagDriveLimit lets tests run the custom event filter through both of
// SQLite's plans; it returns a function restoring the limit.
func SetTagDriveLimit(n int) func() {
	old := tagDriveLimit
	tagDriveLimit = n
	return func() { tagDriveLimit = old }
}
