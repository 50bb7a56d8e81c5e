package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopAll()
	testenv.StopS3()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// result is one in-process run of the veil command line.
type result struct {
	stdout, stderr string
	code           int
}

// runVeil runs the command line in-process, as main does, with env as the
// only environment.
func runVeil(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code := run(context.Background(), args, c)
	return result{out.String(), errb.String(), code}
}

// mustVeil runs a command that must succeed.
func mustVeil(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	r := runVeil(t, env, args...)
	if r.code != 0 {
		t.Fatalf("veil %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return v
}

// lastLine returns stderr's error line; the contract is one line per error.
func errLine(t *testing.T, r result) string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "veil: ") {
		t.Fatalf("stderr does not end in a `veil: ` error line:\n%s", r.stderr)
	}
	for _, bad := range []string{"panic", "goroutine ", ".go:"} {
		if strings.Contains(r.stderr, bad) {
			t.Fatalf("stderr contains %q (stack trace?):\n%s", bad, r.stderr)
		}
	}
	return last
}

func TestHelp(t *testing.T) {
	cmds := [][]string{
		{}, {"serve"}, {"migrate"}, {"doctor"}, {"version"}, {"scrub"},
		{"project"}, {"project", "create"}, {"project", "list"},
		{"key"}, {"key", "create"}, {"key", "list"}, {"key", "rotate"}, {"key", "revoke"}, {"key", "generate-master"}, {"key", "rotate-master"},
	}
	for _, args := range cmds {
		name := strings.Join(args, " ")
		t.Run(name, func(t *testing.T) {
			r := runVeil(t, nil, append(args, "--help")...)
			if r.code != 0 || strings.Count(r.stdout, "Usage: veil") != 1 {
				t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
	if r := runVeil(t, nil, "help", "serve"); r.code != 0 || !strings.Contains(r.stdout, "-addr") {
		t.Fatalf("veil help serve: %d %s", r.code, r.stdout)
	}
}

func TestBadUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"NoCommand", nil, nil, "no command given"},
		{"UnknownCommand", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"UnknownSubcommand", nil, []string{"key", "frob"}, `unknown command "frob" for veil key`},
		{"UnknownFlag", nil, []string{"serve", "--nope"}, "flag provided but not defined: -nope"},
		{"StrayArgument", nil, []string{"migrate", "--data", dir, "extra"}, `unexpected argument "extra"`},
		{"BadAddr", nil, []string{"serve", "--data", dir, "--addr", "8080"}, "--addr \"8080\" is not host:port"},
		{"BadEnvValue", map[string]string{"VEIL_DEMO": "perhaps"}, []string{"serve", "--data", dir}, "VEIL_DEMO"},
		{"BadLogFormat", map[string]string{"VEIL_LOG_FORMAT": "xml"}, []string{"migrate", "--data", dir}, "--log-format must be text or json"},
		{"BadDatabaseScheme", nil, []string{"migrate", "--database", "mysql://x"}, "--database must be a postgres:// URL"},
		{"ProjectNameMissing", nil, []string{"project", "create", "--data", dir}, "--name is required"},
		{"KeyKindBad", nil, []string{"key", "create", "--data", dir, "--project", "p", "--kind", "admin"}, "--kind must be browser or server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runVeil(t, tt.env, tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", r.code, r.stderr)
			}
			if line := errLine(t, r); !strings.Contains(line, tt.want) {
				t.Fatalf("error %q does not contain %q", line, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := mustVeil(t, nil, "version", "--json")
	if v := decode[map[string]string](t, r.stdout); v["version"] == "" || !strings.HasPrefix(v["go"], "go") {
		t.Fatalf("version JSON: %s", r.stdout)
	}
}

func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VEIL_DATA": dir} // flags come from the environment too
	r := mustVeil(t, env, "migrate", "--status", "--json")
	if p, _ := decode[map[string]any](t, r.stdout)["pending"].([]any); len(p) == 0 {
		t.Fatalf("fresh database has nothing pending: %s", r.stdout)
	}
	r = mustVeil(t, env, "migrate", "--json")
	applied := decode[map[string]any](t, r.stdout)["applied"].([]any)
	if len(applied) == 0 {
		t.Fatal("nothing applied")
	}
	r = mustVeil(t, env, "migrate")
	if !strings.Contains(r.stdout, "up to date") {
		t.Fatalf("second migrate: %s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "veil.db")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); err == nil {
		t.Fatal("migrate generated a master key; only data commands should")
	}
}
