package main

// dbLogin saves the token in an inboxsync database (Store.Install: the
// exchange, GET /me for the account, the save under that account).
func (c *cli) dbLogin(string) (finisher, error) {
	return nil, usageError("login: --db needs the inboxsync token store, not in this build yet")
}
