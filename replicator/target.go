package replicator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"golang.org/x/time/rate"
)

// targetExec pushes a run's selections to one remote cluster.
type targetExec struct {
	rc       *runCtx
	id       string
	remote   *remote
	limiters []*rate.Limiter

	tally     // the whole run's, towards this target
	bytesSent atomic.Int64
	link      *linkCounter // this agent's link to the target
	// wire counts every byte sent (frame headers too), for the rate.
	wire atomic.Int64
	// arrived holds the sha256 of content the target now has, of the part
	// of a listing being replicated: only the paths waiting to be linked to
	// a content sent for another path of that part ask it (committer.link),
	// and a later part's paths are planned after the content arrived, so
	// the target links them itself. Held for the part only, it stays small
	// at a million objects.
	arrived contentSet
	rate    atomic.Int64

	mu       sync.Mutex
	err      error // why the target failed, if it did
	lastSent int64
	lastAt   time.Time
}

func newTargetExec(x *runExec, id string) *targetExec {
	e := x.e
	return &targetExec{
		rc: x.context(), id: id,
		remote:   &remote{cluster: id, source: e.cfg.ClusterID, addr: func() (string, bool) { return e.cfg.APIAddr(id) }, token: e.cfg.Token, scheme: e.cfg.Scheme, http: e.http, retry: defaultRetry},
		limiters: []*rate.Limiter{newLimiter(x.run.Spec.Setting.RateLimit), e.linkLimiter(id)},
		link:     e.linkStats.counter(id),
		lastAt:   time.Now(),
	}
}

// sentContent counts content the target took, in the run and on the link.
func (t *targetExec) sentContent(n int64) {
	t.bytesSent.Add(n)
	t.link.add(n)
}

// pass is one selection on its way to one target; its stages (planner,
// sender, committer) share it.
type pass struct {
	t   *targetExec
	sel selection
	// tally is what this selection alone came to (it adds to the target's).
	tally   tally
	bulk    bulkRepository
	bulkErr error
	// strict stops the pass at the end of a phase in which an object
	// failed (real time: the round is retried whole, see phaseFailed).
	strict bool
	// listed counts the objects and bytes the pass was given, part by part.
	listed, listedBytes int64
}

func (t *targetExec) newPass(sel selection) *pass {
	p := &pass{t: t, sel: sel, tally: tally{up: &t.tally}}
	if sel.repo != nil {
		p.bulk, p.bulkErr = withBulk(sel.repo, nil)
	} else {
		p.bulkErr = errors.New("no local repository")
	}
	return p
}

func (p *pass) outcome(o object, action, errText string) {
	p.t.outcome(&p.tally, p.sel.spec.LocalRepoName, o, action, errText)
}
func (p *pass) objectFailed(o object, err error) {
	p.t.objectFailed(&p.tally, p.sel.spec.LocalRepoName, o, err)
}

// execute plans and transfers every selection to the target. A target that
// stays unreachable through the retries fails alone: the others go on.
func (t *targetExec) execute(ctx context.Context, sels []selection) {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	for _, sel := range sels {
		if ctx.Err() != nil {
			break
		}
		if t.quickCheck(ctx, sel) {
			continue
		}
		before, beforeErr := t.remote.head(ctx, sel.spec.RemoteProjectID, sel.spec.RemoteRepoName, 0, "")
		p := t.newPass(sel)
		// An error after the run's context ended (a cancel, FAST_FAIL
		// elsewhere) is that ending, not this target's failure.
		err := t.replicate(ctx, p)
		if err != nil && ctx.Err() == nil {
			t.setErr(err)
			stop(err)
		}
		clean := err == nil && ctx.Err() == nil && beforeErr == nil && p.tally.clean(p.listed)
		t.recordMark(ctx, p, before.Seq, clean)
	}
	if err := context.Cause(ctx); err != nil && t.failure() == nil && !errors.Is(err, errCanceled) && !errors.Is(err, context.Canceled) {
		t.setErr(err)
	}
	// What was never reached counts as failed when the target failed.
	if t.failure() != nil {
		t.failRest()
	}
}

// replicate carries one pass through the commit order: for each phase, plan
// its objects, send what the target lacks, link what arrived for other
// paths; then commit the package versions. It returns why the target must be
// given up, if it must; nil when ctx ended.
func (t *targetExec) replicate(ctx context.Context, p *pass) error {
	pctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	s := newSender(pctx, stop, p)
	defer s.close()
	c := &committer{p: p, queued: map[string]bool{}}
	if err := p.checkTags(pctx); err != nil || ctx.Err() != nil {
		return err
	}
	for objs, err := range p.sel.parts(pctx) {
		if err != nil {
			if g := givenUp(ctx, pctx); g != nil {
				return g
			}
			return err
		}
		t.arrived.reset()
		c.nextPart()
		p.listed += int64(len(objs))
		for _, o := range objs {
			p.listedBytes += o.Size
		}
		err = p.plan(pctx, objs, s, c)
		s.barrier()
		if err == nil {
			err = givenUp(ctx, pctx)
		}
		if err == nil {
			err = c.link(pctx)
		}
		if err == nil {
			err = p.phaseFailed()
		}
		if err != nil {
			return err
		}
	}
	p.settleTotal()
	if err := givenUp(ctx, pctx); err != nil {
		return err
	}
	return c.versions(pctx)
}

// settleTotal corrects the target's total once a listing taken in parts
// has been listed to its end, when it came to other than the count made
// before (files written or deleted meanwhile), so that done, skipped and
// failed still add up to it. A pass that stopped short leaves the count as
// it was: failRest counts the rest as failed.
func (p *pass) settleTotal() {
	if p.sel.more {
		files, bytes := p.sel.size()
		p.t.planned(p.listed-files, p.listedBytes-bytes)
	}
}

// givenUp is why the pass stopped (its context ended) when that was not the
// run's own ending: a stage gave the target up.
func givenUp(run, pass context.Context) error {
	if pass.Err() == nil || run.Err() != nil {
		return nil
	}
	return context.Cause(pass)
}

// checkTags plans the pass's tags as a dry run under FAST_FAIL, so that a
// tag the target holds at another manifest fails the run before any phase
// sends a byte or links a path (the tags are planned for real only in the
// last phase, after their images). The answers are not accounted: the tag
// phase plans them again.
func (p *pass) checkTags(ctx context.Context) error {
	if p.t.rc.spec.Setting.ConflictStrategy != fsm.ConflictFastFail {
		return nil
	}
	var tags []object
	for _, o := range p.sel.objects {
		if o.phase == phaseTag {
			tags = append(tags, o)
		}
	}
	if len(tags) == 0 {
		return nil
	}
	pl := newPlanner(ctx, p, tags, true)
	defer pl.close()
	for d := range pl.decisions() {
		if d.stop {
			p.tally.conflict()
			p.fastFail(d.o)
		}
	}
	return pl.err
}

// fastFail records the conflict at o and ends the run (FAST_FAIL).
func (p *pass) fastFail(o object) {
	p.outcome(o, ActionConflict, conflictText)
	p.t.rc.fail(fmt.Errorf("conflict at %s on %s (conflictStrategy FAST_FAIL)", o.Path, p.t.id))
}

const conflictText = "the target holds different content at this path"

// plan routes the target's answers for objects of one phase: content to
// send, paths to link once their content has arrived, outcomes to account.
func (p *pass) plan(ctx context.Context, objs []object, s *sender, c *committer) error {
	pl := newPlanner(ctx, p, objs, false)
	defer pl.close()
	for d := range pl.decisions() {
		if d.conflict {
			p.tally.conflict()
		}
		switch d.action {
		case ActionSend:
			if item := (planned{o: d.o, overwrite: d.conflict}); !d.unreached && c.claim(item) {
				s.send(item)
			}
		case ActionConflict:
			if d.stop {
				p.fastFail(d.o)
			} else {
				p.outcome(d.o, ActionConflict, conflictText)
			}
		case ActionLinked, ActionIdentical, ActionMetadata:
			p.outcome(d.o, d.action, "")
		default:
			p.objectFailed(d.o, errors.New(d.err))
		}
	}
	return pl.err
}
