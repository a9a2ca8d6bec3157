package inboxsync

// The accounts' OAuth tokens in the accounts table, sealed at rest when
// the store has a key, saved by compare-and-swap on refresh.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/go-bookingsync/bookingsync"
	"golang.org/x/oauth2"
)

// ErrAccountRevoked is returned, wrapped together with
// bookingsync.ErrNoToken, when the account's token was forgotten by an
// uninstall (Store.Uninstall, an accounts_application_destroyed webhook, a
// refresh answered invalid_grant). Installing the application again
// (Store.TokenStore(id).Save, Install) brings the account back.
var ErrAccountRevoked = errors.New("inboxsync: account uninstalled")

// SealTokens makes the store seal every token it saves from now on with
// AES-GCM under key (16, 24 or 32 bytes: AES-128, -192 or -256), and unseal
// the sealed ones it loads. Without a key, tokens are stored in clear
// (JSON in the accounts table): whoever can read the database can then act
// for every account, so protect the database as you would the tokens.
//
// Every replica must be given the same key. Tokens saved in clear before
// the key was set are still read, and sealed at their next save (the next
// refresh). A sealed token is bound to its account: copied into another
// account's row it does not unseal.
func (s *Store) SealTokens(key []byte) error {
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("inboxsync: SealTokens: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("inboxsync: SealTokens: %w", err)
	}
	s.tokenKey.Store(&aead)
	return nil
}

func (s *Store) tokenAEAD() cipher.AEAD {
	if p := s.tokenKey.Load(); p != nil {
		return *p
	}
	return nil // tokens are stored in clear
}

// sealedV1 marks a sealed token: the byte, a 12-byte nonce, the ciphertext.
// A token in clear is JSON and starts with '{'.
const sealedV1 = 0x01

func tokenAAD(accountID int64) []byte {
	return []byte("bookingsync token of account " + strconv.FormatInt(accountID, 10))
}

// sealToken encodes t for the token column.
func (s *Store) sealToken(accountID int64, t *oauth2.Token) ([]byte, error) {
	c := *t
	c.ExpiresIn = 0 // relative to the response; Expiry is what counts
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("inboxsync: save token: %w", err)
	}
	aead := s.tokenAEAD()
	if aead == nil {
		return b, nil
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(b)+aead.Overhead())
	out[0] = sealedV1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("inboxsync: save token: %w", err)
	}
	return aead.Seal(out, out[1:], b, tokenAAD(accountID)), nil
}

// openToken decodes the token column. Errors never quote it.
func (s *Store) openToken(accountID int64, b []byte) (*oauth2.Token, error) {
	if len(b) > 0 && b[0] == sealedV1 {
		aead := s.tokenAEAD()
		if aead == nil {
			return nil, fmt.Errorf("inboxsync: account %d: the token is sealed; give the store its key (SealTokens)", accountID)
		}
		if len(b) < 1+aead.NonceSize() {
			return nil, fmt.Errorf("inboxsync: account %d: sealed token is truncated", accountID)
		}
		plain, err := aead.Open(nil, b[1:1+aead.NonceSize()], b[1+aead.NonceSize():], tokenAAD(accountID))
		if err != nil {
			return nil, fmt.Errorf("inboxsync: account %d: cannot unseal the token (wrong key?)", accountID)
		}
		b = plain
	}
	var t oauth2.Token
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("inboxsync: account %d: stored token is not valid JSON", accountID)
	}
	return &t, nil
}

// refreshSum names a refresh token without revealing it: the
// compare-and-swap key of SaveRefreshed.
func refreshSum(t *oauth2.Token) string {
	h := sha256.Sum256([]byte(t.RefreshToken))
	return hex.EncodeToString(h[:])
}

// TokenStore returns the store of the account's OAuth token, kept in the
// accounts table of this database. Saving a token installs the account
// (Fleet.Run syncs every installed account); Load fails with
// bookingsync.ErrNoToken when none was saved, and with ErrAccountRevoked
// too once an uninstall forgot it.
//
// It is a bookingsync.RefreshSaver: given to bookingsync.NewStoredTokenSource
// with the account's Locker (WithLocker(st.Locker(id))), a refreshed token
// is written only over the token it was refreshed from, so that no process
// ever puts an older token over a newer one, nor brings back the token of
// an account uninstalled meanwhile. Tokens are stored in clear unless the
// store has a key (SealTokens).
func (s *Store) TokenStore(accountID int64) bookingsync.TokenStore {
	return &accountTokens{st: s, id: accountID}
}

// accountTokens is Store.TokenStore's store. It remembers the refresh
// token it loaded last, so that an invalid_grant answered for it can
// uninstall the account without racing a new installation (revokeLoaded).
type accountTokens struct {
	st *Store
	id int64

	mu         sync.Mutex
	loadedSum  string
	loadedSeen bool
}

var _ bookingsync.RefreshSaver = (*accountTokens)(nil)

// Load returns the account's token.
func (a *accountTokens) Load(ctx context.Context) (*oauth2.Token, error) {
	var tok []byte
	var revoked any
	err := a.st.queryRow(ctx, a.st.db, `SELECT token, revoked_at FROM accounts WHERE account_id = ?`, a.id).Scan(&tok, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("inboxsync: account %d: %w", a.id, bookingsync.ErrNoToken)
	}
	if err != nil {
		return nil, fmt.Errorf("inboxsync: load token of account %d: %w", a.id, err)
	}
	if tok == nil {
		if revoked != nil {
			return nil, fmt.Errorf("inboxsync: account %d: %w: %w", a.id, ErrAccountRevoked, bookingsync.ErrNoToken)
		}
		return nil, fmt.Errorf("inboxsync: account %d: %w", a.id, bookingsync.ErrNoToken)
	}
	t, err := a.st.openToken(a.id, tok)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.loadedSum, a.loadedSeen = refreshSum(t), true
	a.mu.Unlock()
	return t, nil
}

// Save stores t unconditionally: it installs the account, or installs it
// again after an uninstall. The token source saves refreshed tokens
// through SaveRefreshed instead.
func (a *accountTokens) Save(ctx context.Context, t *oauth2.Token) error {
	if t == nil {
		return errors.New("inboxsync: save token: nil token")
	}
	b, err := a.st.sealToken(a.id, t)
	if err != nil {
		return err
	}
	_, err = a.st.exec(ctx, a.st.db, `INSERT INTO accounts (account_id, token, refresh_sum, installed_at, updated_at)
VALUES (?, ?, ?, db_clock(?), db_clock(?))
ON CONFLICT (account_id) DO UPDATE SET token = excluded.token, refresh_sum = excluded.refresh_sum,
	installed_at = CASE WHEN accounts.token IS NULL THEN excluded.installed_at ELSE accounts.installed_at END,
	revoked_at = NULL, revoked_reason = NULL, updated_at = excluded.updated_at`,
		a.id, b, refreshSum(t), a.st.clockAt(0), a.st.clockAt(0))
	if err != nil {
		return fmt.Errorf("inboxsync: save token of account %d: %w", a.id, err)
	}
	return nil
}

// SaveRefreshed stores t only if the account still holds spent, the token
// t was refreshed from; otherwise it saves nothing and returns an error
// wrapping bookingsync.ErrTokenSuperseded.
func (a *accountTokens) SaveRefreshed(ctx context.Context, spent, t *oauth2.Token) error {
	if t == nil || spent == nil {
		return errors.New("inboxsync: save token: nil token")
	}
	b, err := a.st.sealToken(a.id, t)
	if err != nil {
		return err
	}
	res, err := a.st.exec(ctx, a.st.db, `UPDATE accounts SET token = ?, refresh_sum = ?, updated_at = db_clock(?)
WHERE account_id = ? AND token IS NOT NULL AND refresh_sum = ?`,
		b, refreshSum(t), a.st.clockAt(0), a.id, refreshSum(spent))
	if err != nil {
		return fmt.Errorf("inboxsync: save token of account %d: %w", a.id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("inboxsync: save token of account %d: %w", a.id, err)
	} else if n == 0 {
		return fmt.Errorf("inboxsync: account %d: %w", a.id, bookingsync.ErrTokenSuperseded)
	}
	return nil
}

// revokeLoaded uninstalls the account if it still holds the token this
// store loaded last: the token endpoint refused that token's refresh token
// (invalid_grant), so nobody can use it any more, but a token saved since
// (the user installed the application again) is left alone.
func (a *accountTokens) revokeLoaded(ctx context.Context, reason string) (bool, error) {
	a.mu.Lock()
	sum, ok := a.loadedSum, a.loadedSeen
	a.mu.Unlock()
	if !ok {
		return false, nil
	}
	return a.st.revoke(ctx, a.id, revokeIf{sum: sum}, reason)
}

// Locker returns the lock that serializes the refreshes of the account's
// token across every process sharing this database; give it to
// bookingsync.NewStoredTokenSource with bookingsync.WithLocker, together
// with TokenStore(accountID):
//
//	ts := bookingsync.NewStoredTokenSource(ctx, cfg, st.TokenStore(id),
//		bookingsync.WithLocker(st.Locker(id)))
//
// The source then refreshes under the lock, after reading the store again,
// and only if the token it finds still needs it.
//
// On Postgres the lock is a session advisory lock held on a connection of
// its own: the server frees it when the holder dies or its connection
// drops. On SQLite it is a row in fleet_locks, renewed while held, that a
// dead holder leaves behind for at most 15 seconds. Within one process,
// callers queue in memory first, so a process waits on the database once
// per lock.
func (s *Store) Locker(accountID int64) bookingsync.Locker {
	return namedLock{s, "token:" + strconv.FormatInt(accountID, 10)}
}
