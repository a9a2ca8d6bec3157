package bookingsynctest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// faultKinds names the kinds for ParseFault, short and long.
var faultKinds = map[string]FaultKind{
	"status": FaultStatus, "after": FaultStatusAfterProcessing, "status-after-processing": FaultStatusAfterProcessing,
	"reset": FaultReset, "reset-before-read": FaultResetBeforeRead, "truncate": FaultTruncate, "429": Fault429,
	"slow": FaultSlowBody, "slow-body": FaultSlowBody,
}

// FaultKindNames returns the names of the fault kinds, in the order of
// FaultKind, as ParseFault's error and `bookingsync fake --help` list
// them: status, status-after-processing, reset, reset-before-read,
// truncate, 429, slow-body. ParseFault also takes "after" and "slow" for
// the long ones.
func FaultKindNames() []string {
	return []string{"status", "status-after-processing", "reset", "reset-before-read", "truncate", "429", "slow-body"}
}

// ParseFault reads a fault from its text form, for command-line flags:
//
//	KIND[:KEY=VALUE,...]   or   KIND[,KEY=VALUE,...]
//
// KIND is status (a proxy's 5xx page), after or status-after-processing
// (the same once the request was processed), reset, reset-before-read,
// truncate, 429, or slow or slow-body. Keys:
// status (e.g. 503), method (GET…), path (a URL path prefix, e.g.
// /api/v3/inbox), account (an account id), count (how many requests; 0
// every one), rate (a probability in (0, 1)), retry-after and delay
// (durations such as 2s), reset (a 429's raw X-RateLimit-Reset). For
// example "status:status=503,path=/api/v3/inbox,rate=0.05" or
// "429:count=1,reset=garbage".
func ParseFault(spec string) (Fault, error) {
	spec = strings.TrimSpace(spec)
	name, opts := spec, ""
	if i := strings.IndexAny(spec, ":,"); i >= 0 {
		name, opts = spec[:i], spec[i+1:]
	}
	kind, ok := faultKinds[name]
	if !ok {
		names := FaultKindNames()
		return Fault{}, fmt.Errorf("bookingsynctest: unknown fault kind %q in %q (want %s or %s)", name, spec, strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
	}
	f := Fault{Kind: kind}
	for _, kv := range splitComma(opts) {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "status":
			f.Status, err = strconv.Atoi(v)
		case "method":
			f.Method = strings.ToUpper(v)
		case "path":
			f.PathPrefix = v
		case "account":
			f.AccountID, err = strconv.ParseInt(v, 10, 64)
		case "count":
			f.Count, err = strconv.Atoi(v)
		case "rate":
			f.Rate, err = strconv.ParseFloat(v, 64)
		case "retry-after":
			f.RetryAfter, err = time.ParseDuration(v)
		case "delay":
			f.Delay, err = time.ParseDuration(v)
		case "reset":
			f.Reset = v
		default:
			err = errors.New("unknown key")
		}
		if err != nil {
			return Fault{}, fmt.Errorf("bookingsynctest: fault %q: %s: %v", spec, k, err)
		}
	}
	return f, nil
}
