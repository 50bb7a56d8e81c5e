package wal

import "io/fs"

// File is the writer's file interface, for fault-injecting tests.
type File = file

// OpenOSFile opens a real segment file.
var OpenOSFile = openOSFile

// SetOpenFile makes the log open its segment files for writing with fn.
func SetOpenFile(o *Options, fn func(name string, flag int, perm fs.FileMode) (File, error)) {
	o.openFile = fn
}

// SegmentName is the file name of the segment starting at base.
var SegmentName = segmentName

// HeaderSize and FrameHeader are the sizes of the on-disk headers.
const (
	HeaderSize  = headerSize
	FrameHeader = frameHeader
)

// SetAllocHook makes the log report the size of every record buffer it
// allocates while reading.
func SetAllocHook(o *Options, fn func(n int)) { o.allocHook = fn }
