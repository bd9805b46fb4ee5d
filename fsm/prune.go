package fsm

import (
	"slices"
	"strings"
	"time"
)

// pruneRuns drops the oldest ended runs: a task keeps its RunHistory (the
// default for a deleted task's), one-shot runs maxFinishedRuns. Ordering by
// finish time then id is deterministic on every agent.
// dropExpired deletes the task's ended runs that ended more than its
// reserve days before now (the latest one stays: it is the task's last
// word), and returns the rest.
func (s *state) dropExpired(t Task, runs []Run, now time.Time) []Run {
	horizon := now.AddDate(0, 0, -t.ReserveDays())
	latest := 0
	for i, r := range runs {
		if c := r.FinishedAt.Compare(runs[latest].FinishedAt); c > 0 || (c == 0 && r.ID > runs[latest].ID) {
			latest = i
		}
	}
	var out []Run
	for i, r := range runs {
		if i != latest && r.FinishedAt.Before(horizon) {
			delete(s.runs, r.ID)
			continue
		}
		out = append(out, r)
	}
	return out
}

func (s *state) pruneRuns(now time.Time) {
	ended := map[string][]Run{}
	for _, r := range s.runs {
		if r.State.Terminal() {
			ended[r.TaskKey] = append(ended[r.TaskKey], r)
		}
	}
	// Runs of deleted tasks join the one-shot runs under their bound.
	for key, runs := range ended {
		if _, ok := s.tasks[key]; key != "" && !ok {
			ended[""] = append(ended[""], runs...)
			delete(ended, key)
		}
	}
	for key, runs := range ended {
		keep := maxFinishedRuns
		if t, ok := s.tasks[key]; ok {
			keep = t.RunHistory
			if !t.KeepsRecords() {
				keep = 1
			}
			runs = s.dropExpired(t, runs, now)
		}
		if len(runs) <= keep {
			continue
		}
		slices.SortFunc(runs, func(a, b Run) int {
			if c := a.FinishedAt.Compare(b.FinishedAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		for _, r := range runs[:len(runs)-keep] {
			delete(s.runs, r.ID)
		}
	}
}
