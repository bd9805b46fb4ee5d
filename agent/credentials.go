package agent

import (
	"context"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
)

// credentialLimits reads a create request's limits. (A caller limited to
// projects makes only credentials limited inside them: checkScope sees
// to it, as for every write.)
func credentialLimits(req api.CredentialLimits) (fsm.Limits, error) {
	l := fsm.Limits{Projects: req.Projects}
	if req.ExpirationTTL != "" {
		ttl, err := time.ParseDuration(req.ExpirationTTL)
		if err != nil || ttl <= 0 {
			return fsm.Limits{}, fsm.FieldError("expirationTTL", "%q is not a positive duration such as 24h", req.ExpirationTTL)
		}
		l.ExpirationTTL = ttl
	}
	return l, nil
}

// credentialPruneInterval is how often the leader looks again for
// credentials to prune when none expires sooner: a credential made since
// is seen within it.
const credentialPruneInterval = time.Minute

// pruneCredentials drops each expired token and access key from the state
// as it expires (one is refused from then on anyway; the prune keeps the
// state from growing), until ctx ends. Run on the leader.
func (a *Agent) pruneCredentials(ctx context.Context) {
	for {
		now := time.Now()
		next := a.fsm.NextExpiration()
		if !next.IsZero() && !now.Before(next) {
			a.applyInternal(ctx, fsm.CmdPruneCredentials, fsm.PruneCredentials{})
			next = a.fsm.NextExpiration()
		}
		wait := credentialPruneInterval
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), 100*time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
