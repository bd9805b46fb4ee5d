package fsm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"
)

// A publication is the repository's content as it is now (api/pulp serves
// it live), so a publish has nothing to build: it records the publish on
// the distributor (last_publish) and a finished task, asked now
// (CmdPulpPublish), after a successful sync for each auto_publish
// distributor, or at a publish schedule's slot.

// PulpPublish publishes a repository's distributor (CmdPulpPublish).
type PulpPublish struct {
	Cluster     string `json:"cluster"`
	Repo        string `json:"repo"`
	Distributor string `json:"distributor"`
	TaskID      string `json:"taskId"`
	By          string `json:"by"`
}

func applyPulpPublish(s *state, cmd Command) (any, error) {
	var p PulpPublish
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.publish: %v", err)
	}
	if _, err := s.distributorOf(p.Cluster, p.Repo, p.Distributor); err != nil {
		return nil, err
	}
	return s.publish(p, cmd.Time), nil
}

// distributorOf is the index of a repository's distributor.
func (s *state) distributorOf(cluster, repo, dist string) (int, error) {
	r, ok := s.pulpRepos[PulpRepoKey(cluster, repo)]
	if !ok {
		return -1, errorf(KindNotFound, "repository %s of cluster %s not found", repo, cluster)
	}
	i := slices.IndexFunc(r.Distributors, func(d PulpDistributor) bool { return d.ID == dist })
	if i < 0 {
		return -1, &Error{Kind: KindNotFound, Field: "distributor_id", Reason: "repository " + repo + " has no distributor " + dist}
	}
	return i, nil
}

// publish records a publish of an existing distributor at at.
func (s *state) publish(p PulpPublish, at time.Time) PulpTask {
	key := PulpRepoKey(p.Cluster, p.Repo)
	i, _ := s.distributorOf(p.Cluster, p.Repo, p.Distributor)
	r := s.pulpRepos[key].clone()
	r.Distributors[i].LastPublish, r.Index = at, s.applying
	s.pulpRepos[key] = r
	return s.finishedPulpTask(p.TaskID, p.Cluster, "pulp.server.managers.repo.publish.publish", at, p.By,
		"pulp:repository:"+p.Repo, "pulp:action:publish")
}

// autoPublish publishes, after a successful sync, each distributor that
// asks for it: the tasks the sync spawned.
func (s *state) autoPublish(r Run) {
	repo, ok := s.pulpRepos[PulpRepoKey(r.Executor, r.Feed.PulpRepo)]
	if !ok || r.State != RunSuccess {
		return
	}
	for _, d := range repo.Distributors {
		if d.AutoPublish {
			s.publish(PulpPublish{Cluster: r.Executor, Repo: repo.ID, Distributor: d.ID, TaskID: AutoPublishTaskID(r.ID, d.ID), By: r.CreatedBy}, r.FinishedAt)
		}
	}
}

// AutoPublishTaskID is the id of the publish a sync spawned for a
// distributor: derived, so every replica and every reader agrees on it.
func AutoPublishTaskID(syncID, dist string) string {
	h := sha256.Sum256([]byte("publish\x00" + syncID + "\x00" + dist))
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// firePublish is a publish schedule's slot: the publish, done at once and
// counted as a success.
func (s *state) firePublish(sc PulpSchedule, p PulpFire, at time.Time) (any, error) {
	if _, err := s.distributorOf(sc.Cluster, sc.Repo, sc.Distributor); err != nil {
		return nil, err
	}
	if _, dup := s.pulpTasks[p.RunID]; dup || p.RunID == "" {
		return nil, errorf(KindConflict, "task %q exists", p.RunID)
	}
	sc = sc.clone()
	sc.PulpCall = sc.Dispatched(at).Ended(true)
	sc.LastSlot, sc.Index = p.Slot, s.applying
	s.pulpSchedules[sc.ID] = sc
	return s.publish(PulpPublish{Cluster: sc.Cluster, Repo: sc.Repo, Distributor: sc.Distributor, TaskID: p.RunID, By: "schedule:" + sc.ID}, at), nil
}
