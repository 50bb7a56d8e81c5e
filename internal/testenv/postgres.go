package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the admin connection
)

// A throwaway Postgres cluster, started at most once per test binary.
//
// Usage: call Postgres(tb) for the DSN of a fresh, empty database, and
// call StopAll from TestMain after m.Run:
//
//	func TestMain(m *testing.M) { code := m.Run(); testenv.StopAll(); os.Exit(code) }
//
// The server runs as user postgres when the tests run as root (Postgres
// refuses root), listens on 127.0.0.1 on a random port with its socket in
// the cluster directory, and trades durability for speed (fsync=off).
//
// If the test binary dies without StopAll (killed, or a -timeout panic),
// the postmaster gets SIGQUIT from the kernel (parent-death signal) and
// shuts down at once; the next test binary that starts a cluster removes
// directories left behind by dead owners.
var pg struct {
	once  sync.Once
	mu    sync.Mutex // guards stop
	err   error      // why the cluster is unavailable
	dir   string
	port  int
	bin   string
	cred  *syscall.Credential
	proc  *os.Process
	done  chan struct{} // closed when the postmaster exits
	admin *sql.DB
	seq   atomic.Int64
}

const pgDirPattern = "veil-pg-"

// Postgres returns the DSN of a new, empty database (CREATE DATABASE per
// call) on the shared test cluster, dropped when tb ends. If Postgres
// cannot be found or started, it calls Missing: tb fails under CI=true and
// is skipped otherwise.
func Postgres(tb testing.TB) string {
	tb.Helper()
	pg.once.Do(func() { pg.err = startPostgres() })
	if pg.err != nil {
		Missing(tb, "postgres", pg.err.Error())
		return ""
	}
	name := fmt.Sprintf("veil_%d_%d", os.Getpid(), pg.seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := pg.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("testenv: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		// FORCE ends connections a test forgot to close.
		pg.admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return fmt.Sprintf("postgres://veil@127.0.0.1:%d/%s?sslmode=disable", pg.port, name)
}

// StopAll stops the test cluster, if one was started, and removes its
// directory. Call it from TestMain after m.Run. Postgres fails after it.
func StopAll() {
	pg.once.Do(func() { pg.err = errors.New("testenv.StopAll already called") })
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.proc == nil {
		return
	}
	if pg.admin != nil {
		pg.admin.Close()
	}
	stop := exec.Command(filepath.Join(pg.bin, "pg_ctl"), "stop", "-D", filepath.Join(pg.dir, "data"), "-m", "immediate", "-w", "-t", "10")
	stop.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	if err := stop.Run(); err != nil {
		pg.proc.Signal(syscall.SIGQUIT)
	}
	select {
	case <-pg.done:
	case <-time.After(10 * time.Second):
		pg.proc.Kill()
		<-pg.done
	}
	os.RemoveAll(pg.dir)
	pg.proc = nil
	pg.err = errors.New("testenv.StopAll already called")
}

func startPostgres() error {
	bin, err := pgBinDir()
	if err != nil {
		return err
	}
	pg.bin = bin
	removeStaleClusters()
	if os.Geteuid() == 0 {
		if pg.cred, err = unprivileged(); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", pgDirPattern) // not t.TempDir: its 0700 root parent blocks the postgres user
	if err != nil {
		return fmt.Errorf("create cluster dir: %w", err)
	}
	pg.dir = dir
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("write owner.pid: %w", err)
	}
	if pg.cred != nil {
		if err := os.Chown(dir, int(pg.cred.Uid), int(pg.cred.Gid)); err != nil {
			return fmt.Errorf("chown cluster dir: %w", err)
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"),
		"-U", "veil", "--auth=trust", "-E", "UTF8", "--no-locale", "-N")
	initdb.Dir = dir // the postgres user may not be able to enter our cwd
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, tail(out))
	}
	// Picking a free port races with other processes; retry a few times.
	for attempt := 0; ; attempt++ {
		err = startPostmaster()
		if err == nil {
			ok = true
			return nil
		}
		if attempt == 2 {
			return err
		}
	}
}

// startPostmaster runs postgres directly rather than through pg_ctl, so
// that it can carry a parent-death signal (pg_ctl daemonises it, which
// would drop the signal). The fork happens on a locked OS thread that
// outlives the server: Linux sends the signal when the forking thread, not
// the process, exits.
func startPostmaster() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(pg.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open postgres.log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(pg.bin, "postgres"), "-D", filepath.Join(pg.dir, "data"),
		"-p", strconv.Itoa(port), "-k", pg.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	cmd.Dir = pg.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: pg.cred,
		Pdeathsig:  syscall.SIGQUIT, // immediate shutdown if the test binary dies
		Setpgid:    true,            // keep ^C in the terminal from reaching it directly
	}
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread must live as long as the server
		if err := cmd.Start(); err != nil {
			started <- err
			close(done)
			return
		}
		started <- nil
		cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	dsn := fmt.Sprintf("postgres://veil@127.0.0.1:%d/postgres?sslmode=disable", port)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		cmd.Process.Kill()
		return fmt.Errorf("open admin connection: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = admin.PingContext(ctx)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-done:
			admin.Close()
			log, _ := os.ReadFile(filepath.Join(pg.dir, "postgres.log"))
			return fmt.Errorf("postgres exited during startup: %s", tail(log))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			admin.Close()
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("postgres not ready after 30s: %w", err)
		}
	}
	pg.port, pg.proc, pg.done, pg.admin = port, cmd.Process, done, admin
	return nil
}

// pgBinDir finds the server binaries: $VEIL_PG_BIN, `pg_config --bindir`,
// or the newest /usr/lib/postgresql/*/bin (Debian keeps them off PATH).
func pgBinDir() (string, error) {
	has := func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, "initdb"))
		return dir != "" && err == nil
	}
	if dir := os.Getenv("VEIL_PG_BIN"); dir != "" {
		if has(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("VEIL_PG_BIN=%s has no initdb", dir)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); has(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, dir := range dirs {
		if has(dir) {
			return dir, nil
		}
	}
	return "", errors.New("no Postgres server binaries (initdb) found; install postgresql or set VEIL_PG_BIN")
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// unprivileged returns the credentials to run Postgres with when we are
// root: user postgres, else nobody.
func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, errors.New("running as root and neither user postgres nor nobody exists; Postgres refuses to run as root")
}

// removeStaleClusters deletes cluster dirs whose owning test binary is
// gone, stopping a postmaster that somehow survived it.
func removeStaleClusters() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), pgDirPattern+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue // not ours, or still being set up
		}
		if owner, _ := strconv.Atoi(strings.TrimSpace(string(b))); owner <= 0 || alive(owner) {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid")); err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			if pid, _ := strconv.Atoi(first); pid > 0 && alive(pid) && isPostmasterOf(pid, dir) {
				syscall.Kill(pid, syscall.SIGQUIT)
				time.Sleep(500 * time.Millisecond)
			}
		}
		os.RemoveAll(dir)
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// isPostmasterOf guards against a recycled pid.
func isPostmasterOf(pid int, dir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), dir)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last lines of a command's output for an error message.
func tail(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}
