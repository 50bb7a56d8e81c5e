package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/config"
)

func runUser(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil user", []command{
		{"create", "create a dashboard user and make it a member of an organisation", runUserCreate},
		{"reset-mfa", "remove a user's second factors (app, security keys) and end their sessions", runUserResetMFA},
		{"unlock", "clear a user's failed log-in lock", runUserUnlock},
		{"set-password", "set a user's password (from stdin) and end their sessions", runUserSetPassword},
	}, args)
}

// readPassword reads the first line of stdin.
func readPassword(c *cli) (string, error) {
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usagef("no password on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func runUserCreate(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "create", "veil user create --email E --org ORG --role owner|admin|member|viewer --password-stdin [--json] [storage flags]")
	cfg.BindStorage(fs)
	email := fs.String("email", "", "the user's e-mail address (required; the log-in name)")
	org := fs.String("org", "", "organisation id or name to join (required)")
	role := fs.String("role", "", "role in the organisation: owner, admin, member or viewer (required)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin (required; never pass it as a flag)")
	asJSON := fs.Bool("json", false, `print {"user_id","org_id","role"} as JSON`)
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *email == "" || *org == "" || *role == "" || !*pwStdin {
		return usagef("user create: --email, --org, --role and --password-stdin are required")
	}
	if !veil.Role(*role).Valid() {
		return usagef("user create: --role must be owner, admin, member or viewer, got %q", *role)
	}
	pw, err := readPassword(c)
	if err != nil {
		return err
	}
	if err := auth.CheckPassword(pw, *email); err != nil {
		return fmt.Errorf("user create: %s", veil.ErrorMessage(err))
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{})
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := findOrg(ctx, st, *org)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw, auth.DefaultParams)
	if err != nil {
		return err
	}
	u := &veil.User{Email: *email, PasswordHash: hash}
	if err := st.db.CreateUser(ctx, u); err != nil {
		return fmt.Errorf("create user: %w", userErr(err))
	}
	if err := st.db.CreateMembership(ctx, &veil.Membership{OrgID: o.ID, UserID: u.ID, Role: veil.Role(*role)}); err != nil {
		return fmt.Errorf("add membership: %w", userErr(err))
	}
	al := &audit.Log{Store: st.db}
	for _, e := range []audit.Entry{
		{OrgID: o.ID, Action: audit.ActionUserCreate, ObjectKind: "user", ObjectID: u.ID, Actor: cliActor},
		{OrgID: o.ID, Action: audit.ActionMemberAdd, ObjectKind: "user", ObjectID: u.ID, Actor: cliActor, Details: map[string]string{"role": *role}},
	} {
		if _, err := al.Record(ctx, e); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]string{"user_id": u.ID, "org_id": o.ID, "role": *role})
	}
	fmt.Fprintf(c.stdout, "user %s (%s) is now %s of %s (%s)\n", u.ID, u.Email, *role, o.Name, o.ID)
	return nil
}

// userCommand opens storage for a command that names one user by e-mail.
func userCommand(ctx context.Context, c *cli, args []string, name, usage string, run func(st *storage, u *veil.User, asJSON bool) error) error {
	cfg := config.Default()
	fs := newFlags(c, name, usage)
	cfg.BindStorage(fs)
	email := fs.String("email", "", "the user's e-mail address (required)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *email == "" {
		return usagef("%s: --email is required", name)
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{})
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.db.FindUserByEmail(ctx, *email)
	if err != nil {
		return fmt.Errorf("%s: %w", name, userErr(err))
	}
	return run(st, u, *asJSON)
}

func runUserResetMFA(ctx context.Context, c *cli, args []string) error {
	return userCommand(ctx, c, args, "reset-mfa", "veil user reset-mfa --email E [--json] [storage flags]", func(st *storage, u *veil.User, asJSON bool) error {
		err := st.db.DeleteMFA(ctx, u.ID)
		had := err == nil
		if err != nil && veil.ErrorCode(err) != veil.ENOTFOUND {
			return err
		}
		keys, err := st.db.ListWebAuthnCredentials(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := st.db.DeleteWebAuthnCredential(ctx, u.ID, k.ID); err != nil {
				return err
			}
			had = true
		}
		n, err := st.db.DeleteUserWebSessions(ctx, u.ID, "")
		if err != nil {
			return err
		}
		if _, err := (&audit.Log{Store: st.db}).Record(ctx, audit.Entry{Action: audit.ActionMFAReset, ObjectKind: "user", ObjectID: u.ID, Actor: cliActor,
			Details: map[string]string{"had_mfa": fmt.Sprint(had), "sessions_ended": fmt.Sprint(n)}}); err != nil {
			return err
		}
		if asJSON {
			return json.NewEncoder(c.stdout).Encode(map[string]any{"user_id": u.ID, "mfa_removed": had, "sessions_ended": n})
		}
		if !had {
			fmt.Fprintf(c.stdout, "%s had no second factor; %d session(s) ended\n", u.Email, n)
			return nil
		}
		fmt.Fprintf(c.stdout, "second factor of %s removed and %d session(s) ended; they can log in with their password and set up MFA again\n", u.Email, n)
		return nil
	})
}

func runUserUnlock(ctx context.Context, c *cli, args []string) error {
	return userCommand(ctx, c, args, "unlock", "veil user unlock --email E [--json] [storage flags]", func(st *storage, u *veil.User, asJSON bool) error {
		if err := (&auth.Login{Store: st.db}).Unlock(ctx, u.Email); err != nil {
			return err
		}
		if err := st.db.ClearLoginThrottle(ctx, "mfa:"+u.ID); err != nil {
			return err
		}
		if asJSON {
			return json.NewEncoder(c.stdout).Encode(map[string]any{"user_id": u.ID, "unlocked": true})
		}
		fmt.Fprintf(c.stdout, "log-in lock of %s cleared\n", u.Email)
		return nil
	})
}

func runUserSetPassword(ctx context.Context, c *cli, args []string) error {
	return userCommand(ctx, c, args, "set-password", "veil user set-password --email E [--json] [storage flags] < password", func(st *storage, u *veil.User, asJSON bool) error {
		pw, err := readPassword(c)
		if err != nil {
			return err
		}
		if err := auth.CheckPassword(pw, u.Email); err != nil {
			return fmt.Errorf("set-password: %s", veil.ErrorMessage(err))
		}
		hash, err := auth.HashPassword(pw, auth.DefaultParams)
		if err != nil {
			return err
		}
		if err := st.db.UpdateUserPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		n, err := st.db.DeleteUserWebSessions(ctx, u.ID, "")
		if err != nil {
			return err
		}
		if err := (&auth.Login{Store: st.db}).Unlock(ctx, u.Email); err != nil {
			return err
		}
		if _, err := (&audit.Log{Store: st.db}).Record(ctx, audit.Entry{Action: audit.ActionPasswordChange, ObjectKind: "user", ObjectID: u.ID,
			Actor: cliActor, Details: map[string]string{"sessions_ended": fmt.Sprint(n)}}); err != nil {
			return err
		}
		if asJSON {
			return json.NewEncoder(c.stdout).Encode(map[string]any{"user_id": u.ID, "sessions_ended": n})
		}
		fmt.Fprintf(c.stdout, "password of %s set; %d session(s) ended\n", u.Email, n)
		return nil
	})
}
