package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/config"
)

func runAudit(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil audit", []command{
		{"verify", "check the audit log's hash chain; name the first broken entry", runAuditVerify},
		{"export", "print audit entries (JSON lines with --json)", runAuditExport},
	}, args)
}

// errAuditBroken makes `veil audit verify` exit 1 after printing its report.
var errAuditBroken = errors.New("audit log chain is broken")

func runAuditVerify(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "verify", "veil audit verify [--json] [storage flags]")
	cfg.BindStorage(fs)
	asJSON := fs.Bool("json", false, `print {"entries","head","broken":{"seq","id","reason"}} as JSON`)
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{noMaster: true})
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := (&audit.Log{Store: st.db}).Verify(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(c.stdout).Encode(res); err != nil {
			return err
		}
	} else if res.OK() {
		fmt.Fprintf(c.stdout, "audit log intact: %d entries, head %s\nKeep the head hash elsewhere: it also proves later that no entries were cut off the end.\n", res.Entries, res.Head)
	} else {
		fmt.Fprintf(c.stdout, "audit log BROKEN at entry %d (%s): %s\n%d entries before it verify; last good head %s\n",
			res.Broken.Seq, res.Broken.ID, res.Broken.Reason, res.Entries, res.Head)
	}
	if !res.OK() {
		return fmt.Errorf("%w at entry %d (%s): %s", errAuditBroken, res.Broken.Seq, res.Broken.ID, res.Broken.Reason)
	}
	return nil
}

func runAuditExport(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "export", "veil audit export [--org ID] [--json] [storage flags]")
	cfg.BindStorage(fs)
	org := fs.String("org", "", "only this organisation's entries (id or name); default all")
	asJSON := fs.Bool("json", false, "print one JSON object per line (JSON lines), with hashes, for archiving or a SIEM")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{noMaster: true})
	if err != nil {
		return err
	}
	defer st.Close()
	orgID := ""
	if *org != "" {
		o, err := findOrg(ctx, st, *org)
		if err != nil {
			return err
		}
		orgID = o.ID
	}
	l := &audit.Log{Store: st.db}
	// The export is itself recorded, before anything is printed.
	if _, err := l.Record(ctx, audit.Entry{OrgID: orgID, Action: audit.ActionAuditExport, Actor: cliActor}); err != nil {
		return err
	}
	enc := json.NewEncoder(c.stdout)
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintln(tw, "SEQ\tTIME\tORG\tACTOR\tACTION\tOBJECT\tIP\tDETAILS")
	}
	err = l.Each(ctx, orgID, func(e *veil.AuditEntry) error {
		if *asJSON {
			return enc.Encode(e)
		}
		keys := make([]string, 0, len(e.Details))
		for k := range e.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var d []string
		for _, k := range keys {
			d = append(d, k+"="+e.Details[k])
		}
		_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%s %s\t%s\t%s %s\t%s\t%s\n", e.Seq, e.Time.Format("2006-01-02T15:04:05Z"), e.OrgID,
			e.ActorKind, e.ActorID, e.Action, e.ObjectKind, e.ObjectID, e.IP, strings.Join(d, " "))
		return err
	})
	if err != nil {
		return err
	}
	if !*asJSON {
		return tw.Flush()
	}
	return nil
}
