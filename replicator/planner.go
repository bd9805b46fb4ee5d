package replicator

import (
	"context"
	"iter"
	"sync"

	"github.com/ferrysync/ferry/fsm"
)

// planDepth is how many plan requests are in flight at once: planning the
// next batches overlaps answering the last ones.
const planDepth = 3

// A decision is the target's answer for one planned object.
type decision struct {
	o      object
	action string
	// conflict is set when the path held different content (whatever the
	// strategy did with it); err is the target's reason for ActionError.
	conflict bool
	err      string
	// stop marks the FAST_FAIL conflict that ends the planning; unreached
	// marks what the same answer asked for after it: not acted on, not
	// counted.
	stop, unreached bool
}

type planReply struct {
	objs []object
	resp PlanResponse
	err  error
}

// planner asks a target what it lacks of a list of objects, planBatch
// objects a request and planDepth requests in flight, and hands out the
// answers in order. Its workers are its own: close stops and waits for them.
//
// A FAST_FAIL conflict must stop the target from acting on later batches
// (planning links and updates metadata at once), so under FAST_FAIL the
// planner goes in lock-step: a request goes out only once the consumer has
// taken every decision of the one before.
type planner struct {
	p                 *pass
	objs              []object
	depth             int
	ctx               context.Context
	cancel            context.CancelFunc
	work              chan int         // batch numbers, to the workers
	slots             []chan planReply // batch b's answer is in slots[b%depth]
	wg                sync.WaitGroup   // the workers
	issued            int              // batches handed to the workers
	err               error            // why planning stopped short, if it did
	failFast, stopped bool
	// dryRun asks the target to answer without acting (PlanRequest.DryRun).
	dryRun bool
}

func newPlanner(ctx context.Context, p *pass, objs []object, dryRun bool) *planner {
	pl := &planner{p: p, objs: objs, depth: planDepth, work: make(chan int), dryRun: dryRun}
	pl.failFast = p.t.rc.spec.Setting.ConflictStrategy == fsm.ConflictFastFail
	if pl.failFast {
		pl.depth = 1
	}
	pl.ctx, pl.cancel = context.WithCancel(ctx)
	pl.slots = make([]chan planReply, pl.depth)
	for i := range pl.slots {
		pl.slots[i] = make(chan planReply, 1)
	}
	pl.wg.Add(pl.depth)
	for range pl.depth {
		go pl.worker()
	}
	return pl
}

// worker plans the batches it is handed; a slot is always free for the
// answer (at most depth batches are handed out and not yet taken).
func (pl *planner) worker() {
	defer pl.wg.Done()
	for b := range pl.work {
		objs := pl.batch(b)
		resp, err := pl.p.t.remote.plan(pl.ctx, pl.request(objs))
		pl.slots[b%pl.depth] <- planReply{objs: objs, resp: resp, err: err}
	}
}

func (pl *planner) batches() int { return (len(pl.objs) + planBatch - 1) / planBatch }

func (pl *planner) batch(b int) []object {
	return pl.objs[b*planBatch : min((b+1)*planBatch, len(pl.objs))]
}

func (pl *planner) request(objs []object) PlanRequest {
	rc, sel := pl.p.t.rc, pl.p.sel
	req := PlanRequest{Project: sel.spec.RemoteProjectID, Repo: sel.spec.RemoteRepoName, RepoType: sel.repoType,
		Conflict: rc.spec.Setting.ConflictStrategy, IncludeMetadata: rc.spec.Setting.IncludeMetadata, By: rc.by,
		DryRun: pl.dryRun, Objects: make([]PlanObject, len(objs))}
	for i, o := range objs {
		req.Objects[i] = PlanObject{Path: o.Path, Size: o.Size, SHA256: o.SHA256, Metadata: rc.metadata(o)}
	}
	return req
}

// fill hands out the batches up to b+depth-1.
func (pl *planner) fill(b int) bool {
	for pl.issued < pl.batches() && pl.issued < b+pl.depth {
		select {
		case pl.work <- pl.issued:
			pl.issued++
		case <-pl.ctx.Done():
			return false
		}
	}
	return true
}

// decisions yields the target's answers, object by object, in order. It
// ends early when ctx ends, a plan call fails (err says why) or a FAST_FAIL
// conflict stopped the planning.
func (pl *planner) decisions() iter.Seq[decision] {
	return func(yield func(decision) bool) {
		for b := range pl.batches() {
			if pl.stopped || !pl.fill(b) {
				return
			}
			var r planReply
			select {
			case r = <-pl.slots[b%pl.depth]:
			case <-pl.ctx.Done():
				return
			}
			if pl.ctx.Err() != nil {
				return
			}
			if r.err != nil {
				pl.err = r.err
				return
			}
			for i, res := range r.resp.Results {
				if !yield(pl.decide(r.objs[i], res)) {
					return
				}
			}
		}
	}
}

// decide classifies one answer; the first FAST_FAIL conflict stops the
// planning, and what the same answer asks to send after it is unreached.
func (pl *planner) decide(o object, res PlanResult) decision {
	d := decision{o: o, action: res.Action, conflict: res.Conflict, err: res.Error, unreached: pl.stopped && res.Action == ActionSend}
	if res.Action == ActionConflict && pl.failFast && !pl.stopped {
		// The target already linked or updated what follows in this
		// answer: those are still accounted for.
		d.stop, pl.stopped = true, true
		pl.cancel()
	}
	return d
}

// close stops the planning and waits for the requests in flight to end.
func (pl *planner) close() {
	pl.cancel()
	close(pl.work)
	pl.wg.Wait()
}
