package main

import (
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/testenv"
)

func TestDestinationHelp(t *testing.T) {
	for _, args := range [][]string{
		{"destination", "--help"}, {"destination", "add", "--help"}, {"destination", "list", "--help"},
		{"destination", "test", "--help"}, {"destination", "remove", "--help"}, {"destination", "push", "--help"},
		{"destination", "pause", "--help"}, {"destination", "resume", "--help"}, {"destination", "update", "--help"},
	} {
		r := runVeil(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "veil destination") {
			t.Errorf("veil %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	if r := runVeil(t, nil, "destination", "add", "--kind", "s3"); r.code != 2 || !strings.Contains(r.stderr, "--project") {
		t.Errorf("add without --project: %d %s", r.code, r.stderr)
	}
}

// TestDestinationCLI adds a do_not_store S3 destination (versitygw; the
// secret from the environment, never argv), tests it, pushes the recorded
// sessions, and checks that export replay answers where they went.
func TestDestinationCLI(t *testing.T) {
	bucket, endpoint, access, secret := testenv.S3Bucket(t)
	r := recordData(t)
	d := []string{"--data", r.dir}
	env := map[string]string{"VEIL_DESTINATION_SECRET": secret, "VEIL_DESTINATION_ALLOW_PRIVATE": "true"}
	pid := r.project.ProjectID

	if res := runVeil(t, env, append([]string{"destination", "add", "--project", pid, "--kind", "s3", "--bucket", bucket,
		"--endpoint", endpoint, "--path-style", "--access-key-id", access, "--sse", "rot13"}, d...)...); res.code != 1 ||
		!strings.Contains(res.stderr, "SSE must be") {
		t.Fatalf("bad --sse: %d %s", res.code, res.stderr)
	}
	add := decode[map[string]any](t, mustVeil(t, env, append([]string{"destination", "add", "--project", pid, "--kind", "s3",
		"--name", "lake", "--mode", "do_not_store", "--bucket", bucket, "--prefix", "veil", "--endpoint", endpoint, "--path-style",
		"--access-key-id", access, "--json"}, d...)...).stdout)
	id, _ := add["id"].(string)
	if id == "" || strings.Contains(mustVeil(t, env, append([]string{"destination", "list", "--project", pid, "--json"}, d...)...).stdout, secret) {
		t.Fatalf("add answered %v (or list shows the secret)", add)
	}
	test := mustVeil(t, env, append([]string{"destination", "test", "--project", pid, "--destination", id}, d...)...)
	if !strings.Contains(test.stdout, "ok: wrote s3://"+bucket+"/veil/.veil-probe/") {
		t.Fatalf("test: %s", test.stdout)
	}

	// Paused, the destination gets nothing and Veil keeps the recordings.
	mustVeil(t, env, append([]string{"destination", "pause", "--project", pid, "--destination", id}, d...)...)
	if list := mustVeil(t, env, append([]string{"destination", "list", "--project", pid}, d...)...); !strings.Contains(list.stdout, "PAUSED since") {
		t.Fatalf("list of a paused destination:\n%s", list.stdout)
	}
	if push := mustVeil(t, env, append([]string{"destination", "push", "--idle", "1ms"}, d...)...); !strings.Contains(push.stdout, "pushed 0, failed 0") {
		t.Fatalf("push while paused: %s", push.stdout)
	}
	mustVeil(t, env, append([]string{"destination", "resume", "--project", pid, "--destination", id}, d...)...)
	push := mustVeil(t, env, append([]string{"destination", "push", "--idle", "1ms"}, d...)...)
	if !strings.Contains(push.stdout, "pushed 2, failed 0") || !strings.Contains(push.stdout, "local copies deleted 2") {
		t.Fatalf("push: %s", push.stdout)
	}
	res := runVeil(t, env, append([]string{"export", "replay", "--session", r.sessions[0]}, d...)...)
	if res.code == 0 || !strings.Contains(res.stderr, "pushed to destination "+id+" (s3://"+bucket+"/veil/"+pid+"/") {
		t.Fatalf("export replay of a pushed session: %d %s", res.code, res.stderr)
	}
	list := mustVeil(t, env, append([]string{"destination", "list", "--project", pid}, d...)...)
	if !strings.Contains(list.stdout, id) || !strings.Contains(list.stdout, "do_not_store") || !strings.Contains(list.stdout, " ok") {
		t.Fatalf("list:\n%s", list.stdout)
	}
	mustVeil(t, env, append([]string{"destination", "remove", "--project", pid, "--destination", id}, d...)...)
	if res := runVeil(t, env, append([]string{"destination", "test", "--project", pid, "--destination", id}, d...)...); res.code != 1 ||
		!strings.Contains(res.stderr, "not found") {
		t.Fatalf("test after remove: %d %s", res.code, res.stderr)
	}
	// The stub outlives the destination.
	res = runVeil(t, env, append([]string{"export", "replay", "--session", r.sessions[1], "--project", pid}, d...)...)
	if res.code == 0 || !strings.Contains(res.stderr, "do_not_store") {
		t.Fatalf("export after remove: %d %s", res.code, res.stderr)
	}
}

// TestDestinationUpdateCLI moves an S3 destination to another bucket and
// prefix in place (verified; the stored keys are kept), refuses a wrong
// secret under --verify and a mode change, and the next push lands in the
// new bucket.
func TestDestinationUpdateCLI(t *testing.T) {
	bucket, endpoint, access, secret := testenv.S3Bucket(t)
	moved, _, _, _ := testenv.S3Bucket(t)
	r := recordData(t)
	d := []string{"--data", r.dir}
	env := map[string]string{"VEIL_DESTINATION_SECRET": secret, "VEIL_DESTINATION_ALLOW_PRIVATE": "true"}
	pid := r.project.ProjectID
	add := decode[map[string]any](t, mustVeil(t, env, append([]string{"destination", "add", "--project", pid, "--kind", "s3",
		"--bucket", bucket, "--endpoint", endpoint, "--path-style", "--access-key-id", access, "--json"}, d...)...).stdout)
	id, _ := add["id"].(string)
	upd := func(env map[string]string, args ...string) result {
		return runVeil(t, env, append(append([]string{"destination", "update", "--project", pid, "--destination", id}, args...), d...)...)
	}
	noSecret := map[string]string{"VEIL_DESTINATION_ALLOW_PRIVATE": "true"}
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"wrong secret", map[string]string{"VEIL_DESTINATION_SECRET": "wrong", "VEIL_DESTINATION_ALLOW_PRIVATE": "true"},
			[]string{"--verify"}, 1, "Not saved"},
		{"mode", noSecret, []string{"--mode", "do_not_store"}, 1, "cannot be changed"},
		{"key id without secret", noSecret, []string{"--access-key-id", "AK2"}, 1, "needs its secret access key"},
		{"move", noSecret, []string{"--bucket", moved, "--prefix", "moved", "--verify"}, 0, "updated " + id + ": s3.bucket, s3.prefix"},
		{"again", noSecret, []string{"--bucket", moved}, 0, "nothing changed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := upd(tt.env, tt.args...)
			if res.code != tt.code || !strings.Contains(res.stdout+res.stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s%s", res.code, tt.code, tt.want, res.stdout, res.stderr)
			}
		})
	}
	if res := runVeil(t, noSecret, append([]string{"destination", "update", "--project", pid, "--destination", "dst_nope", "--name", "x"}, d...)...); res.code != 1 ||
		!strings.Contains(res.stderr, "not found") {
		t.Fatalf("unknown destination: %d %s", res.code, res.stderr)
	}
	push := mustVeil(t, noSecret, append([]string{"destination", "push", "--idle", "1ms"}, d...)...)
	if !strings.Contains(push.stdout, "pushed 2, failed 0") {
		t.Fatalf("push after the move: %s", push.stdout)
	}
	list := mustVeil(t, noSecret, append([]string{"destination", "list", "--project", pid}, d...)...)
	if !strings.Contains(list.stdout, "s3://"+moved+"/moved") || strings.Contains(list.stdout, secret) {
		t.Fatalf("list after the move:\n%s", list.stdout)
	}
}
