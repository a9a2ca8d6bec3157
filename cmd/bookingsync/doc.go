// Command bookingsync is the command-line tool of the BookingSync (Smily)
// Inbox API: it serves a fake of the API for any language's tests, logs
// in, lists and shows conversations, replies as a host, mirrors an account
// into a database and sends signed webhooks to a receiver under test.
//
//	go install github.com/go-bookingsync/bookingsync/cmd/bookingsync@latest
//	go run ./cmd/bookingsync <command>   # from a clone's root
//
// # Commands
//
//	fake [--addr host:port]            the in-memory API, until interrupted
//	login [--redirect-uri URI] [--db DSN]
//	                                   the authorization-code flow in a browser
//	conversations [--all] [--json]     open conversations, latest message first
//	show [--json] ID                   a conversation and its thread, oldest first
//	reply --host HOST [--json] ID TEXT a reply as a host (TEXT "-": stdin)
//	sync --db DSN [--watch EVERY]      mirror the account into a database
//	                                   (EVERY a Go duration: 30s, 5m, 1h)
//	db migrate|status --db DSN         apply the database's pending migrations, or list them
//	webhooks trigger EVENT --to URL --secret S
//	                                   one signed delivery of a realistic payload
//	version                            the versions of the tool, the client and inboxsync
//
// `bookingsync help COMMAND` lists a command's flags. Flags may follow the
// arguments; "--" ends them.
//
// # Environment
//
//	BOOKINGSYNC_TOKEN          an access token; without it, the token login saved
//	BOOKINGSYNC_BASE_URL       the site root (default https://www.bookingsync.com);
//	                           plain http only on a loopback address
//	BOOKINGSYNC_CLIENT_ID      the application, for login and to refresh the
//	BOOKINGSYNC_CLIENT_SECRET  saved token (and the default webhook secret)
//
// login saves the token in <user config dir>/bookingsync/token-<host>.json
// (mode 0600; one file per site, so a sandbox's or the fake's token never
// replaces the production one), or with --db in that inboxsync database,
// under the account GET /me names (Store.Install). Its callback answers
// only the loopback host and port of the redirect URI. The other commands
// use BOOKINGSYNC_TOKEN, else (sync --db) the token installed in the
// database, else the token file, refreshing a stored token, and saving the
// new one in its place, when the application's id and secret are set. A
// refresh takes the store's lock (the database's Store.Locker, which a
// Fleet sharing it takes too; flock on token-<host>.json.lock), so that
// two processes never spend one refresh token twice. No command
// prints a token, a refresh token or a client secret, except fake, whose
// second line is its own made-up token.
//
// # Output and exit codes
//
// Tables go to stdout for people; --json writes the same data as JSON for
// scripts: for conversations an array, for show an object, with the field
// names of the tables (id, subject, channel, guest {id, name}, rental {id,
// name}, booking_id, closed, awaiting_reply, last_message, messages [{id,
// sent_at, from ("guest", "host" or "unknown"), sender {id, name},
// content, visibility, channel}]); for reply the message sent, as show
// writes a message, and its conversation_id. A failure prints one line on
// stderr,
//
//	bookingsync: <kind>: <message>
//
// where kind is usage, auth, not found or error (after a usage error, the
// command's usage follows), and exits with
//
//	0    success
//	1    error: the API or the machine failed (network, 5xx, 429, 422, refusal)
//	2    usage: bad flags, arguments or input; nothing was sent
//	3    auth: no token, the API answered 401 or 403, or sync's --account
//	     is not the token's account
//	4    not found: the API answered 404
//	130  interrupted by SIGINT, 143 by SIGTERM (a command that had not
//	     finished: "bookingsync: interrupted (SIGINT)", and what it kept)
//
// reply sends TEXT whole or not at all: a text over 1 MiB, or not UTF-8,
// is refused (exit 2); of a text read from stdin only the newline that
// ends it is dropped. sync files the copy under the account the token
// belongs to (GET /me, asked before anything is written); an interrupted
// one-shot sync stops between pages, each written whole, and says what
// the copy kept. A --db DSN that is not sqlite:PATH or postgres://… is a
// usage error, and no message shows a database password. Time flags take
// Go durations (30s, 5m, 1h30m).
//
// # The fake, from any language's tests
//
// `bookingsync fake` serves bookingsynctest, the in-memory API the SDK's
// own tests use, on --addr (default 127.0.0.1:0: a free port). Its first
// line on stdout is "listening on http://host:port", the site root (the
// API lives under /api/v3/, OAuth under /oauth/); its second is
// "token <access token>", valid for the seeded account with every scope.
// It stops on SIGINT or SIGTERM. Flags:
//
//	--seed=false                an empty account
//	--accounts N                N installed accounts; each after the first
//	                            prints a line "account <id> token <token>"
//	--conversations N --messages M
//	                            a generated Inbox of that size in every account
//	--latency D --latency-jitter D
//	--rate-limit N --conversation-delay D --token-lifetime D
//	--page-cap N | RESOURCE=N   repeatable: the largest page of every resource,
//	                            or of one (default the live API's: rentals 50,
//	                            the rest 100; id lists are paged too)
//	--client-id --client-secret --redirect-uri
//	                            the OAuth application (/oauth/authorize approves at once)
//	--webhook-url URL --webhook-secret S
//	                            signed deliveries to URL on writes
//	--fault SPEC                repeatable: make requests misbehave
//
// A fault is a kind (status, status-after-processing, reset,
// reset-before-read, truncate, 429, slow-body) and the fields of
// bookingsynctest.Fault as key=value:
//
//	--fault status,status=503,method=GET,path=/api/v3/inbox/conversations,count=2
//	--fault 429,rate=0.1   --fault reset,account=2   --fault slow-body,delay=2s
//
// A Python test suite (pytest) starts it once per session:
//
//	import subprocess, pytest
//
//	@pytest.fixture(scope="session")
//	def bookingsync():
//	    p = subprocess.Popen(["bookingsync", "fake", "--addr", "127.0.0.1:0"],
//	                         stdout=subprocess.PIPE, text=True)
//	    url = p.stdout.readline().split()[-1]     # listening on http://…
//	    token = p.stdout.readline().split()[-1]   # token …
//	    yield url, token
//	    p.terminate()
//	    p.wait()
//
// and Node the same way:
//
//	const { spawn } = require("node:child_process");
//	const readline = require("node:readline");
//
//	async function startFake() {
//	  const p = spawn("bookingsync", ["fake", "--addr", "127.0.0.1:0"]);
//	  const lines = readline.createInterface({ input: p.stdout })[Symbol.asyncIterator]();
//	  const url = (await lines.next()).value.split(" ").pop();
//	  const token = (await lines.next()).value.split(" ").pop();
//	  return { url, token, stop: () => p.kill() };
//	}
//
// Send requests to url + "/api/v3/…" with "Authorization: Bearer " + token.
// Spawn the built binary (go install, or go build -o once), not go run:
// killing go run would leave the fake behind it running.
package main
