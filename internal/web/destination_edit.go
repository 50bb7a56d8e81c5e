package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/destination"
)

// The edit form of a destination's page (destination.html): settings
// prefilled, secret fields always empty ("leave empty to keep"), kind and
// mode shown but not editable, "test before saving" on by default so
// settings that do not work are refused with the probe's error.

const actionDestinationUpdate = "destination.update"

// editForm is the edit form's state: the values to show and, after a
// refused save, why.
type editForm struct {
	Values url.Values
	Error  string
	Open   bool
}

// editValues fills the form from the destination as stored (no secrets:
// the view has none).
func editValues(v *destination.View) url.Values {
	f := url.Values{"name": {v.Name}, "age_recipient": {v.AgeRecipient}, "verify": {"1"}}
	if c := v.S3; c != nil {
		f.Set("bucket", c.Bucket)
		f.Set("prefix", c.Prefix)
		f.Set("region", c.Region)
		f.Set("endpoint", c.Endpoint)
		f.Set("sse", c.SSE)
		f.Set("kms_key_id", c.KMSKeyID)
		if c.PathStyle {
			f.Set("path_style", "1")
		}
	}
	if c := v.SFTP; c != nil {
		f.Set("host", c.Host)
		f.Set("port", strconv.Itoa(c.Port))
		f.Set("user", c.User)
		f.Set("dir", c.Dir)
		f.Set("host_key", c.HostKey)
	}
	return f
}

// destinationUpdate reads the edit form of a kind. The form carries every
// setting, so each is set; secrets only when typed in.
func destinationUpdate(f url.Values, kind string) (destination.Update, error) {
	get := func(k string) *string { s := strings.TrimSpace(f.Get(k)); return &s }
	u := destination.Update{Name: get("name"), AgeRecipient: get("age_recipient"), Verify: f.Get("verify") != "",
		RemoveSecrets: f["remove_secret"]}
	switch kind {
	case destination.KindS3:
		ps := f.Get("path_style") != ""
		u.S3 = &destination.S3Update{Bucket: get("bucket"), Prefix: get("prefix"), Region: get("region"), Endpoint: get("endpoint"),
			PathStyle: &ps, SSE: get("sse"), KMSKeyID: get("kms_key_id")}
		u.Secrets = destination.Secrets{AccessKeyID: strings.TrimSpace(f.Get("access_key_id")), SecretAccessKey: f.Get("secret_access_key"),
			SessionToken: f.Get("session_token")}
	case destination.KindSFTP:
		port, err := strconv.Atoi(strings.TrimSpace(f.Get("port")))
		if err != nil {
			return u, veil.Errorf(veil.EINVALID, "Port must be a number.")
		}
		u.SFTP = &destination.SFTPUpdate{Host: get("host"), Port: &port, User: get("user"), Dir: get("dir"), HostKey: get("host_key")}
		u.Secrets = destination.Secrets{Password: f.Get("password"), PrivateKey: f.Get("private_key")}
	}
	return u, nil
}

// destinationEdit handles "POST …/destinations/{destination}/edit"
// (admins): save the form; a refused save (invalid, the probe failed,
// changed meanwhile) shows the page again with the form open, its error,
// and the values typed (never the secrets).
func (h *Handler) destinationEdit(w http.ResponseWriter, r *http.Request) error {
	svc, p, v, err := h.destinationOf(r)
	if err != nil {
		return err
	}
	u, err := destinationUpdate(r.PostForm, v.Kind)
	var out *destination.Updated
	if err == nil {
		out, err = svc.Update(r.Context(), p.ID, v.ID, u)
	}
	if code := veil.ErrorCode(err); code == veil.EINVALID || code == veil.ECONFLICT {
		refill := url.Values{}
		for k, vs := range r.PostForm {
			refill[k] = vs
		}
		for _, f := range secretFields {
			refill.Del(f)
		}
		status := http.StatusBadRequest
		if code == veil.ECONFLICT {
			status = http.StatusConflict
		}
		msg := veil.ErrorMessage(err)
		if !strings.HasPrefix(msg, "Not saved") {
			msg = "Not saved: " + msg
		}
		return h.renderDestination(w, r, status, "", nil, &editForm{Values: refill, Error: msg, Open: true})
	} else if err != nil {
		return err
	}
	done := "unchanged"
	if len(out.Changed) > 0 {
		done = "updated"
		// Field names only, never values (secrets appear as
		// "secrets.password").
		if err := h.recordDestination(r, p, actionDestinationUpdate, v.ID, map[string]string{
			"changed": strings.Join(out.Changed, ","), "verified": strconv.FormatBool(out.Test != nil)}); err != nil {
			return err
		}
	}
	return redirect(w, r, destinationsURL(p)+"/"+url.PathEscape(v.ID)+"?done="+done)
}
