package main

import (
	"net/url"
	"path/filepath"
	"strings"

	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/web"
)

// storageInfo describes where cfg keeps data for the dashboard's trust
// page, without credentials or query parameters.
func storageInfo(cfg *config.Config) web.StorageInfo {
	var s web.StorageInfo
	if cfg.Database == "" {
		s.Database = "SQLite, " + filepath.Join(cfg.Data, "veil.db")
	} else if u, err := url.Parse(cfg.Database); err == nil {
		s.Database = "PostgreSQL, " + u.Host + u.Path
	} else {
		s.Database = "PostgreSQL"
	}
	switch u, err := url.Parse(cfg.Blobs); {
	case cfg.Blobs == "":
		s.Blobs = "local directory, " + filepath.Join(cfg.Data, "blobs")
	case err != nil:
		s.Blobs = "configured blob store"
	case u.Scheme == "s3":
		s.Blobs = "S3-compatible, bucket " + u.Host + u.Path
		if ep, err := url.Parse(u.Query().Get("endpoint")); err == nil && ep.Host != "" {
			s.Blobs += " at " + ep.Host
		}
	default:
		s.Blobs = "local directory, " + strings.TrimPrefix(u.Path, "//")
	}
	return s
}
