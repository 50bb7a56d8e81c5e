package store_test

import (
	"testing"

	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/store/storetest"
)

func TestStore_Accounts(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			storetest.RunAccountsSuite(t, func(t *testing.T) *store.DB { return MustOpen(t, d.dsn(t)) })
		})
	}
}
