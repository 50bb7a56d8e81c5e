package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// InstanceKey returns the wrapped instance key name, creating it with
// create() when missing. Concurrent first calls agree on one key.
func (db *DB) InstanceKey(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error) {
	var wrapped []byte
	err := db.queryRow(ctx, db.sql, "SELECT wrapped_key FROM instance_keys WHERE name = ?", name).Scan(&wrapped)
	if err == nil {
		return wrapped, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, wrap("find instance key", err)
	}
	w, err := create()
	if err != nil {
		return nil, err
	}
	if _, err := db.exec(ctx, db.w, "INSERT INTO instance_keys (name, wrapped_key, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
		name, w, db.ts(db.now())); err != nil {
		return nil, wrap("create instance key", err)
	}
	err = db.queryRow(ctx, db.w, "SELECT wrapped_key FROM instance_keys WHERE name = ?", name).Scan(&wrapped)
	return wrapped, wrap("find instance key", err)
}

// RewrapInstanceKeys replaces every instance key's wrapped form with fn's
// result in one transaction (all or nothing), for master key rotation.
// fn must not call the Repository.
func (db *DB) RewrapInstanceKeys(ctx context.Context, fn func(name string, wrapped []byte) ([]byte, error)) (int, error) {
	n := 0
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		rows, err := db.query(ctx, tx, "SELECT name, wrapped_key FROM instance_keys ORDER BY name")
		if err != nil {
			return err
		}
		type key struct {
			name    string
			wrapped []byte
		}
		keys, err := collect(rows, func(s interface{ Scan(...any) error }) (key, error) {
			var k key
			return k, s.Scan(&k.name, &k.wrapped)
		}, "read instance keys")
		if err != nil {
			return err
		}
		for _, k := range keys {
			w, err := fn(k.name, k.wrapped)
			if err != nil {
				return fmt.Errorf("rewrap instance key %s: %w", k.name, err)
			}
			if _, err := db.exec(ctx, tx, "UPDATE instance_keys SET wrapped_key = ? WHERE name = ?", w, k.name); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	return n, wrap("rewrap instance keys", err)
}
