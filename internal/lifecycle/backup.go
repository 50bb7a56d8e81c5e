package lifecycle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/keyring"
)

// A backup is a set of objects in a blob.Bucket (a directory or an S3
// prefix, see OpenBackupTarget):
//
//	backup.json          BackupHeader, in clear: ids, times, the wrapped backup key
//	manifest.vbk         the sealed BackupManifest
//	db.vbk               the sealed database copy (SQLite VACUUM INTO, or pg_dump -Fc)
//	blobs/<key>.vbk      each blob object, sealed again
//
// Every .vbk file is "VBK1" { uvarint(len) sealed-chunk }*, each chunk at
// most 16 MiB of plaintext, sealed by the backup key with the AAD
// {Kind: "backup", ID: backup-id "/" path "/" chunk-number}: a chunk moved
// to another file, position or backup fails to open, and the manifest's
// SHA-256 of each whole plaintext catches a dropped or repeated chunk. The
// backup key is random per backup and stored only wrapped by the master
// key; the master key itself is never in a backup.

// BackupFormat names the backup layout version.
const BackupFormat = "veil.backup.v1"

const backupChunk = 16 << 20

var vbkMagic = []byte("VBK1")

// BackupHeader is backup.json.
type BackupHeader struct {
	Format      string    `json:"format"`
	ID          string    `json:"id"`
	CreatedAt   time.Time `json:"created_at"`
	Dialect     string    `json:"dialect"`
	MasterKeyID string    `json:"master_key_id"`
	WrappedKey  []byte    `json:"wrapped_key"`
}

// BackupEntry is one file of a backup.
type BackupEntry struct {
	Path   string `json:"path"`          // inside the backup directory
	Kind   string `json:"kind"`          // "db" or "blob"
	Key    string `json:"key,omitempty"` // blob key
	Size   int64  `json:"size"`          // plaintext bytes
	SHA256 string `json:"sha256"`        // of the plaintext
	Sealed string `json:"sealed_sha256"` // of the file as stored
}

// BackupManifest lists every file of a backup.
type BackupManifest struct {
	ID        string        `json:"id"`
	CreatedAt time.Time     `json:"created_at"`
	Dialect   string        `json:"dialect"`
	Entries   []BackupEntry `json:"entries"`
}

func backupAAD(id, path string, chunk int) keyring.AAD {
	return keyring.AAD{Kind: "backup", ID: id + "/" + path + "/" + strconv.Itoa(chunk)}
}

func backupKeyAAD(id string) keyring.AAD { return keyring.AAD{Kind: "backup-key", ID: id} }

// sealFile seals data into a .vbk object of dst and returns its entry.
func sealFile(ctx context.Context, dk *keyring.DataKey, id string, dst blob.Bucket, path, kind, key string, data []byte) (BackupEntry, error) {
	out := append([]byte(nil), vbkMagic...)
	for i := 0; i == 0 || i*backupChunk < len(data); i++ {
		end := min(len(data), (i+1)*backupChunk)
		sealed, err := dk.Seal(data[i*backupChunk:end], backupAAD(id, path, i))
		if err != nil {
			return BackupEntry{}, err
		}
		out = binary.AppendUvarint(out, uint64(len(sealed)))
		out = append(out, sealed...)
	}
	if err := dst.Put(ctx, path, out); err != nil {
		return BackupEntry{}, err
	}
	ps, ss := sha256.Sum256(data), sha256.Sum256(out)
	return BackupEntry{Path: path, Kind: kind, Key: key, Size: int64(len(data)),
		SHA256: hex.EncodeToString(ps[:]), Sealed: hex.EncodeToString(ss[:])}, nil
}

// openFile reads and opens a .vbk object, checking it against e when e
// is not nil.
func openFile(ctx context.Context, dk *keyring.DataKey, id string, src blob.Bucket, path string, e *BackupEntry) ([]byte, error) {
	raw, err := src.Get(ctx, path)
	if err != nil {
		return nil, err
	}
	if e != nil {
		if ss := sha256.Sum256(raw); hex.EncodeToString(ss[:]) != e.Sealed {
			return nil, errors.New("stored file does not match its manifest checksum")
		}
	}
	if !bytes.HasPrefix(raw, vbkMagic) {
		return nil, errors.New("not a sealed backup file")
	}
	raw = raw[len(vbkMagic):]
	var out []byte
	for i := 0; len(raw) > 0; i++ {
		n, k := binary.Uvarint(raw)
		if k <= 0 || uint64(len(raw)-k) < n {
			return nil, errors.New("truncated sealed backup file")
		}
		plain, err := dk.Open(raw[k:k+int(n)], backupAAD(id, path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, plain...)
		raw = raw[k+int(n):]
	}
	if e != nil {
		if ps := sha256.Sum256(out); hex.EncodeToString(ps[:]) != e.SHA256 || int64(len(out)) != e.Size {
			return nil, errors.New("contents do not match the manifest checksum")
		}
	}
	return out, nil
}

var errStopList = errors.New("stop listing")

// isEmpty reports whether a bucket holds no object.
func isEmpty(ctx context.Context, b blob.Bucket) (bool, error) {
	empty := true
	err := b.List(ctx, "", func(blob.Info) error { empty = false; return errStopList })
	if err != nil && !errors.Is(err, errStopList) {
		return false, err
	}
	return empty, nil
}

// CreateBackup writes a backup of the database and every blob object to
// dst (a directory or an S3 prefix, see OpenBackupTarget), which must be
// empty. dumpDB writes a consistent copy of the database to a local file
// (SQLite VACUUM INTO, pg_dump); dialect is recorded for restore. The
// retention and compaction leases are held meanwhile, so no object the
// database copy refers to is deleted while blobs are copied. backup.json
// is written last: a backup without it is incomplete.
func (s *Service) CreateBackup(ctx context.Context, dst blob.Bucket, dialect string, dumpDB func(ctx context.Context, path string) error) (*BackupManifest, error) {
	if empty, err := isEmpty(ctx, dst); err != nil {
		return nil, fmt.Errorf("list backup destination: %w", err)
	} else if !empty {
		return nil, veil.Errorf(veil.EINVALID, "The backup destination is not empty.")
	}
	id := veil.NewID("bak")
	dk := keyring.NewDataKey()
	wrapped, err := s.Master.Wrap(dk, backupKeyAAD(id))
	if err != nil {
		return nil, err
	}
	m := &BackupManifest{ID: id, CreatedAt: s.now().UTC(), Dialect: dialect}
	holder := "backup/" + id
	err = s.withLease(ctx, LeaseRetention, holder, func() error {
		return s.withLease(ctx, LeaseCompact, holder, func() error {
			tmpDir, err := os.MkdirTemp("", "veil-backup-*")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmpDir)
			tmp := filepath.Join(tmpDir, "db")
			if err := dumpDB(ctx, tmp); err != nil {
				return fmt.Errorf("copy database: %w", err)
			}
			data, err := os.ReadFile(tmp)
			if err != nil {
				return err
			}
			os.Remove(tmp)
			e, err := sealFile(ctx, dk, id, dst, "db.vbk", "db", "", data)
			if err != nil {
				return fmt.Errorf("write db.vbk: %w", err)
			}
			m.Entries = append(m.Entries, e)
			renewed := time.Now()
			return s.Blobs.List(ctx, "", func(info blob.Info) error {
				if time.Since(renewed) > time.Minute { // keep both leases through a long copy
					for _, name := range []string{LeaseRetention, LeaseCompact} {
						if err := s.renewLease(ctx, name, holder); err != nil {
							return err
						}
					}
					renewed = time.Now()
				}
				data, err := s.Blobs.Get(ctx, info.Key)
				if errors.Is(err, blob.ErrNotFound) {
					return nil // deleted meanwhile (an erasure)
				} else if err != nil {
					return err
				}
				e, err := sealFile(ctx, dk, id, dst, "blobs/"+info.Key+".vbk", "blob", info.Key, data)
				if err != nil {
					return fmt.Errorf("back up %s: %w", info.Key, err)
				}
				m.Entries = append(m.Entries, e)
				return nil
			})
		})
	})
	if err != nil {
		return nil, err
	}
	mj, _ := json.Marshal(m)
	if _, err := sealFile(ctx, dk, id, dst, "manifest.vbk", "manifest", "", mj); err != nil {
		return nil, err
	}
	hj, _ := json.MarshalIndent(BackupHeader{Format: BackupFormat, ID: id, CreatedAt: m.CreatedAt, Dialect: dialect,
		MasterKeyID: s.Master.ID(), WrappedKey: wrapped}, "", "  ")
	if err := dst.Put(ctx, "backup.json", hj); err != nil {
		return nil, err
	}
	_, err = s.record(ctx, audit.Entry{Action: ActionBackupCreate, ObjectKind: "backup", ObjectID: id,
		Details: map[string]string{"files": strconv.Itoa(len(m.Entries)), "dialect": dialect}})
	return m, err
}

// Backup is an opened backup.
type Backup struct {
	Src      blob.Bucket
	Header   BackupHeader
	Manifest BackupManifest
	key      *keyring.DataKey
}

// ReadBackupHeader reads backup.json; it fails unless src holds a
// complete Veil backup.
func ReadBackupHeader(ctx context.Context, src blob.Bucket) (*BackupHeader, error) {
	hb, err := src.Get(ctx, "backup.json")
	if errors.Is(err, blob.ErrNotFound) {
		return nil, errors.New("no backup.json: not a Veil backup, or an incomplete one")
	} else if err != nil {
		return nil, fmt.Errorf("read backup header: %w", err)
	}
	var h BackupHeader
	if err := json.Unmarshal(hb, &h); err != nil || h.Format != BackupFormat {
		return nil, fmt.Errorf("backup.json is not a %s header", BackupFormat)
	}
	return &h, nil
}

// OpenBackup reads a backup's header and manifest; master must be the
// master key the backup was made with.
func OpenBackup(ctx context.Context, src blob.Bucket, master *keyring.Master) (*Backup, error) {
	h, err := ReadBackupHeader(ctx, src)
	if err != nil {
		return nil, err
	}
	b := &Backup{Src: src, Header: *h}
	if b.key, err = master.Unwrap(b.Header.WrappedKey, backupKeyAAD(b.Header.ID)); err != nil {
		return nil, fmt.Errorf("backup %s was made with master key %s: %w", b.Header.ID, b.Header.MasterKeyID, err)
	}
	mj, err := openFile(ctx, b.key, b.Header.ID, src, "manifest.vbk", nil)
	if err != nil {
		return nil, fmt.Errorf("open backup manifest: %w", err)
	}
	if err := json.Unmarshal(mj, &b.Manifest); err != nil || b.Manifest.ID != b.Header.ID {
		return nil, errors.New("backup manifest does not belong to this backup")
	}
	return b, nil
}

// Problem is one backup file that failed a check.
type Problem struct {
	Path string `json:"path"`
	Err  string `json:"error"`
}

// Restore checks every file of the backup against its manifest and hands
// each good one over: the database copy to writeDB, blob objects to dst
// (nil: check only). It returns the files that failed; it stops only on
// errors of writeDB or dst.
func (b *Backup) Restore(ctx context.Context, writeDB func(data []byte) error, dst blob.Bucket) ([]Problem, error) {
	var problems []Problem
	for i := range b.Manifest.Entries {
		e := &b.Manifest.Entries[i]
		data, err := openFile(ctx, b.key, b.Header.ID, b.Src, e.Path, e)
		if err != nil {
			problems = append(problems, Problem{Path: e.Path, Err: err.Error()})
			continue
		}
		switch {
		case e.Kind == "db" && writeDB != nil:
			err = writeDB(data)
		case e.Kind == "blob" && dst != nil:
			err = dst.Put(ctx, e.Key, data)
		}
		if err != nil {
			return problems, fmt.Errorf("restore %s: %w", e.Path, err)
		}
	}
	return problems, nil
}

// CheckReadable opens every session and event batch the service's store
// knows, as a restore check: it returns what failed to open.
func (s *Service) CheckReadable(ctx context.Context) (sessions, batches int, problems []Problem, err error) {
	projects, err := s.Store.ListProjects(ctx, "")
	if err != nil {
		return 0, 0, nil, err
	}
	rd := newReader(s)
	for _, p := range projects {
		ss, err := s.Store.ListSessionsSeenBefore(ctx, p.ID, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1<<30)
		if err != nil {
			return 0, 0, nil, err
		}
		for _, ses := range ss {
			sessions++
			if _, err := rd.Replay(ctx, p.ID, ses.ID, io.Discard); err != nil {
				problems = append(problems, Problem{Path: "session " + p.ID + "/" + ses.ID, Err: err.Error()})
			}
		}
		bs, err := s.Store.ListEventBatches(ctx, p.ID, time.Time{}, time.Time{})
		if err != nil {
			return 0, 0, nil, err
		}
		pk, err := s.project(ctx, p.ID)
		if err != nil {
			return 0, 0, nil, err
		}
		for _, b := range bs {
			batches++
			if err := s.openBatch(ctx, pk, b); err != nil {
				problems = append(problems, Problem{Path: "event batch " + p.ID + "/" + b.ID, Err: err.Error()})
			}
		}
	}
	return sessions, batches, problems, nil
}

// openBatch reads and opens every entry of one event batch object.
func (s *Service) openBatch(ctx context.Context, p *projectKey, b *veil.EventBatch) error {
	obj, err := s.Blobs.Get(ctx, b.BlobKey)
	if err != nil {
		return err
	}
	n := 0
	err = ingest.EachBatchEntry(obj, func(id string, sealed []byte) error {
		plain, err := p.dek.Open(sealed, ingest.EventsAAD(p.orgID, p.id, id))
		n += bytes.Count(plain, []byte{'\n'})
		return err
	})
	if err == nil && n != b.Count {
		err = fmt.Errorf("batch holds %d messages, index says %d", n, b.Count)
	}
	return err
}

// ReleaseBackupLeases frees, in a restored database, the job leases the
// backup held while its database copy was taken (the copy has them too).
func (s *Service) ReleaseBackupLeases(ctx context.Context, b *Backup) error {
	for _, name := range []string{LeaseRetention, LeaseCompact} {
		if err := s.Store.ReleaseLease(ctx, name, "backup/"+b.Header.ID); err != nil {
			return err
		}
	}
	return nil
}
