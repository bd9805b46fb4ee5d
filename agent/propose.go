package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/peer"
	"github.com/ferrysync/ferry/internal/sdksign"
	"github.com/hashicorp/raft"
)

// applyTimeout bounds how long the leader waits to enqueue a command.
const applyTimeout = 10 * time.Second

// statusError is an error with the HTTP status the caller should see, and
// the message alone as its text: the API answers it as it is, where a
// peer.StatusError would prefix the status.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string   { return e.msg }
func (e *statusError) StatusCode() int { return e.code }

// retryableError marks a failure after which the same command may be proposed
// again: its id makes a second apply a no-op if the first one did land.
type retryableError struct{ error }

func (e retryableError) Unwrap() error { return e.error }

func retryable(err error) bool {
	var r retryableError
	return errors.As(err, &r) ||
		errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) ||
		errors.Is(err, raft.ErrLeadershipTransferInProgress) || errors.Is(err, raft.ErrEnqueueTimeout)
}

// propose gets cmd applied by the leader on behalf of the caller whose secret
// is given, and returns once this agent has applied it too. While no leader is
// known it holds the write for up to LeaderWait, then fails with 503.
// A refusal by the state comes back as a *fsm.Error.
func (a *Agent) propose(ctx context.Context, secret string, cmd fsm.Command) error {
	if err := a.checkScope(ctx, cmd); err != nil {
		return err
	}
	return a.proposeUntil(ctx, secret, cmd, time.Now().Add(a.cfg.LeaderWait))
}

// checkScope refuses a command that reaches a project the caller's
// credential is not limited to: here, so that it costs no Raft entry, and
// on the leader again for a forwarded one (ApplyForwarded).
func (a *Agent) checkScope(ctx context.Context, cmd fsm.Command) error {
	caller := api.CallerOf(ctx)
	if len(caller.Projects) == 0 {
		return nil
	}
	sc, err := a.fsm.ScopeOf(cmd)
	if err != nil {
		return err
	}
	if !(fsm.Limits{Projects: caller.Projects}).Covers(sc) {
		return &api.ScopeError{Caller: caller.Name, Allowed: caller.Projects, Wanted: sc.Projects, All: sc.All}
	}
	return nil
}

// proposeAsAgent proposes a command of this agent's own (the executor's run
// reports) with the management token the agents of a group share, and holds
// it until it is applied, refused or ctx ends: a run's start or end lost to
// an election longer than LeaderWait would have the executor run it again.
func (a *Agent) proposeAsAgent(ctx context.Context, cmd fsm.Command) error {
	return a.proposeUntil(ctx, a.cfg.Token, cmd, time.Time{})
}

// proposeUntil is propose holding the write until deadline (zero: until ctx
// ends). Each forward is still bounded by LeaderWait.
func (a *Agent) proposeUntil(ctx context.Context, secret string, cmd fsm.Command, deadline time.Time) error {
	backoff := 25 * time.Millisecond
	for {
		leaderChanged := a.node.LeaderChanged()
		err := a.proposeOnce(ctx, secret, cmd, deadline, leaderChanged)
		if !retryable(err) {
			return err
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return &statusError{http.StatusServiceUnavailable, fmt.Sprintf("no cluster leader: the write was not accepted within %s (%v)", a.cfg.LeaderWait, err)}
		}
		a.log.Debug("write not accepted yet, retrying", "command", cmd.Type, "id", cmd.ID, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-leaderChanged:
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// proposeOnce applies cmd here when this agent leads, else forwards it to
// the leader and waits to apply it too. Without a deadline, a write the
// leader committed but this agent has not applied yet is retried (its id
// makes that a no-op) rather than given up with 504.
func (a *Agent) proposeOnce(ctx context.Context, secret string, cmd fsm.Command, deadline time.Time, leaderChanged <-chan struct{}) error {
	if a.node.IsLeader() {
		res, err := a.applyLocal(cmd)
		if err != nil {
			return err
		}
		return res.Err
	}
	leader, ok := a.Leader()
	if !ok || leader.APIAddr == "" || leader.ID == a.cfg.ClusterID {
		return retryableError{errors.New("no leader is known")}
	}
	attempt := deadline
	if attempt.IsZero() {
		attempt = time.Now().Add(a.cfg.LeaderWait)
	}
	index, err := a.forwardAttempt(ctx, attempt, leaderChanged, leader, secret, cmd)
	if err != nil {
		return err
	}
	err = a.waitApplied(ctx, index)
	if err != nil && deadline.IsZero() && ctx.Err() == nil {
		return retryableError{err}
	}
	return err
}

// forwardAttempt forwards once, giving up when the write's deadline passes or
// the known leader changes: a leader whose host hangs would otherwise hold
// the write until the HTTP timeout. Retrying is safe, the command id makes a
// second apply a no-op.
func (a *Agent) forwardAttempt(ctx context.Context, deadline time.Time, leaderChanged <-chan struct{}, leader cluster.Leader, secret string, cmd fsm.Command) (uint64, error) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	go func() {
		select {
		case <-leaderChanged:
			cancel()
		case <-ctx.Done():
		}
	}()
	return a.forward(ctx, leader, secret, cmd)
}

// waitApplied holds the answer until this agent has applied index, so that
// the caller reads its own write here.
func (a *Agent) waitApplied(ctx context.Context, index uint64) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.LeaderWait)
	defer cancel()
	if err := a.fsm.WaitForIndex(ctx, index); err != nil {
		return &statusError{http.StatusGatewayTimeout, fmt.Sprintf("the write was committed at index %d but this agent has not applied it yet: %v", index, err)}
	}
	return nil
}

// applyLocal stamps the time on cmd and applies it; only on the leader.
func (a *Agent) applyLocal(cmd fsm.Command) (fsm.Result, error) {
	cmd.Time = time.Now().UTC()
	b, err := cmd.Encode()
	if err != nil {
		return fsm.Result{}, err
	}
	_, resp, err := a.node.Apply(b, applyTimeout)
	if err != nil {
		return fsm.Result{}, err
	}
	res, ok := resp.(fsm.Result)
	if !ok {
		return fsm.Result{}, fmt.Errorf("fsm returned %T for %s", resp, cmd.Type)
	}
	return res, nil
}

// ApplyForwarded implements api.Forwarder: the leader's side of forwarding.
func (a *Agent) ApplyForwarded(ctx context.Context, cmd fsm.Command) (fsm.Result, error) {
	if !a.node.IsLeader() {
		return fsm.Result{}, &statusError{http.StatusServiceUnavailable, "this agent is not the leader"}
	}
	if err := a.checkScope(ctx, cmd); err != nil {
		return fsm.Result{}, err
	}
	res, err := a.applyLocal(cmd)
	if err != nil {
		if retryable(err) {
			return fsm.Result{}, &statusError{http.StatusServiceUnavailable, "leadership changed while applying: " + err.Error()}
		}
		return fsm.Result{}, err
	}
	return res, nil
}

// signAsCaller signs a forwarded write as its caller when that caller
// signed with an access key and so has no token to pass on: the leader then
// checks the command against the key's own policy, as it does a token's.
// The SK is replicated state, so this agent knows it.
func (a *Agent) signAsCaller(ctx context.Context, secret string) func(*http.Request) error {
	ak := api.CallerOf(ctx).AccessKey
	if secret != "" || ak == "" {
		return nil
	}
	return func(r *http.Request) error {
		k, ok := a.fsm.AccessKey(ak)
		if !ok {
			return &statusError{http.StatusUnauthorized, "access key " + ak + " was deleted"}
		}
		return sdksign.Sign(r, k.AccessKey, k.Secret, time.Now())
	}
}

// forward sends cmd to the leader's API with the caller's credentials and
// returns the index at which it was applied. What did not reach the leader,
// or failed there (5xx), may be retried; a refusal (4xx) may not.
func (a *Agent) forward(ctx context.Context, leader cluster.Leader, secret string, cmd fsm.Command) (uint64, error) {
	body, err := cmd.Encode()
	if err != nil {
		return 0, err
	}
	var out api.ForwardedResult
	err = a.peers.Do(ctx, peer.Request{
		Method: http.MethodPost, Addr: leader.APIAddr, Cluster: leader.ID, Path: "/v1/internal/apply",
		Body: bytes.NewReader(body), Token: secret, TraceID: api.TraceID(ctx),
		Sign: a.signAsCaller(ctx, secret),
	}, &out)
	var se *peer.StatusError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil && out.Error != nil:
		return 0, out.Error
	case err == nil:
		return out.Index, nil
	case errors.As(err, &se) && se.Code >= 500:
		return 0, retryableError{fmt.Errorf("leader %s: %d %s: %s", leader.ID, se.Code, http.StatusText(se.Code), se.Message)}
	case errors.As(err, &se):
		return 0, &statusError{se.Code, se.Message}
	case errors.As(err, &syntax), errors.As(err, &typ):
		return 0, fmt.Errorf("leader %s answered an unreadable result: %w", leader.ID, err)
	default:
		return 0, retryableError{fmt.Errorf("forward to leader %s: %w", leader.ID, err)}
	}
}
