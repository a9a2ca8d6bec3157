package bookingsync

import (
	"context"
	"encoding/json"
	"net/http"
)

// Me is what GET /me says about the token: the account it acts for, as the
// application installed there (the reference calls the record an
// accounts_application).
type Me struct {
	// AccountID is the account this token acts for (links.account on the
	// wire).
	AccountID int64 `json:"-"`
	// PartnershipInvoiceRecipient says who is invoiced for a partnership
	// service ("account", …).
	PartnershipInvoiceRecipient string `json:"-"`
}

// UnmarshalJSON takes the account from links.account, as the API writes
// it, or from an account attribute.
func (m *Me) UnmarshalJSON(data []byte) error {
	var w struct {
		Account                     flexInt `json:"account"`
		PartnershipInvoiceRecipient string  `json:"partnership_invoice_recipient"`
		Links                       struct {
			Account flexInt `json:"account"`
		} `json:"links"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*m = Me{AccountID: int64(w.Links.Account), PartnershipInvoiceRecipient: w.PartnershipInvoiceRecipient}
	if m.AccountID == 0 {
		m.AccountID = int64(w.Account)
	}
	return nil
}

// MarshalJSON writes Me as the API does, the account under links.
func (m Me) MarshalJSON() ([]byte, error) {
	type links struct {
		Account int64 `json:"account"`
	}
	return json.Marshal(struct {
		Links                       links  `json:"links"`
		PartnershipInvoiceRecipient string `json:"partnership_invoice_recipient"`
	}{links{m.AccountID}, m.PartnershipInvoiceRecipient})
}

// Me returns the account this token acts for. It needs only the public
// scope, which every token has; with a client-credentials token, which acts
// for no one account, list the installed accounts with Accounts.List
// instead.
//
// GET /me
func (c *Client) Me(ctx context.Context) (*Me, *Response, error) {
	return newResource[Me](c, "me", "accounts_applications").one(ctx, http.MethodGet, "me", nil)
}
