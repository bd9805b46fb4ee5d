package swr

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// Automatic sync rules are Ferry tasks: a rule is a REAL_TIME PATH task of
// the image's folder to <remoteNamespace>/<same DOCKER repository> of the
// target region, named after the rule's key so that the name (unique
// among tasks, checked by the fsm) makes the key unique too. syncAuto false
// is the same task disabled: stored, no standing run. Tasks already are
// replicated state with a standing run, cancelation on delete and run
// records; a type of its own would repeat all of it.

// ruleKey is what identifies a rule (contract §1.2).
type ruleKey struct {
	Namespace, Repo, Region, RemoteNamespace string
}

const ruleNamePrefix = "swr-sync "

func (k ruleKey) taskName() string {
	return fmt.Sprintf("%s%s/%s -> %s/%s", ruleNamePrefix, k.Namespace, k.Repo, k.Region, k.RemoteNamespace)
}

// image splits an SWR repository into the Ferry DOCKER repository (its
// first component) and the image path in it ("" for the root image).
func image(repo string) (dockerRepo, img string) {
	dockerRepo, img, _ = strings.Cut(repo, "/")
	return dockerRepo, img
}

// scope is the image's folder: a rule watches what is written under it
// (the root image's is the whole repository).
func scope(img string) string {
	if img == "" {
		return "/"
	}
	return "/" + img + "/"
}

func conflictStrategy(override bool) string {
	if override {
		return fsm.ConflictOverwrite
	}
	return fsm.ConflictSkip
}

// ruleTask is the task of a rule.
func ruleTask(k ruleKey, syncAuto, override bool) api.TaskRequest {
	dockerRepo, img := image(k.Repo)
	req := api.NewTaskRequest()
	req.Name, req.LocalProjectID, req.Description = k.taskName(), k.Namespace, "SWR automatic image sync rule"
	req.ReplicaObjectType, req.ReplicaType = fsm.ObjectPath, fsm.ReplicaRealTime
	req.Objects = []fsm.ReplicaObject{{
		LocalRepoName: dockerRepo, RemoteProjectID: k.RemoteNamespace, RemoteRepoName: dockerRepo, RepoType: string(store.TypeDocker),
		PathConstraints: []fsm.PathConstraint{{Path: scope(img)}},
	}}
	req.RemoteClusterIDs, req.Enabled = []string{k.Region}, syncAuto
	req.Setting.ConflictStrategy = conflictStrategy(override)
	req.KeepDifferingOnTarget = !override
	return req
}

// ruleOf reads a task back as a rule; ok is false for any other task
// (its name is not the one its fields would give).
func ruleOf(t fsm.Task) (ruleKey, bool) {
	if !strings.HasPrefix(t.Name, ruleNamePrefix) || len(t.Objects) != 1 || len(t.RemoteClusterIDs) != 1 || len(t.Objects[0].PathConstraints) != 1 {
		return ruleKey{}, false
	}
	o := t.Objects[0]
	repo := o.LocalRepoName
	if img := strings.Trim(o.PathConstraints[0].Path, "/"); img != "" {
		repo += "/" + img
	}
	k := ruleKey{Namespace: t.ProjectID, Repo: repo, Region: t.RemoteClusterIDs[0], RemoteNamespace: o.RemoteProjectID}
	return k, t.Name == k.taskName()
}

// syncFields are what SWR's SyncRepo and SyncJob share.
type syncFields struct {
	ID              int32  `json:"id"`
	CreatedAt       string `json:"createdAt"`
	UpdatedAt       string `json:"updatedAt"`
	DomainID        string `json:"domainID"`
	DomainName      string `json:"domainName"`
	Namespace       string `json:"namespace"`
	Override        bool   `json:"override"`
	RemoteNamespace string `json:"remoteNamespace"`
	RemoteRegionID  string `json:"remoteRegionId"`
	RepoName        string `json:"repoName"`
}

// ruleView is SWR's SyncRepo.
type ruleView struct {
	syncFields
	SyncAuto bool `json:"syncAuto"`
}

func viewRule(k ruleKey, t fsm.Task) ruleView {
	return ruleView{SyncAuto: t.Enabled, syncFields: syncFields{
		ID: id32(t.Key), CreatedAt: formatTime(t.CreatedDate), UpdatedAt: formatTime(t.LastModifiedDate),
		DomainID: t.CreatedBy, DomainName: t.CreatedBy, Namespace: k.Namespace, Override: t.RealTimeConflict() == fsm.ConflictOverwrite,
		RemoteNamespace: k.RemoteNamespace, RemoteRegionID: k.Region, RepoName: k.Repo,
	}}
}

// rules are the repository's rules, oldest first.
func (d *dialect) rules(ns, repo string) []fsm.Task {
	var out []fsm.Task
	for _, v := range d.tasks.ListTasks(api.TaskFilter{ProjectID: ns, NamePrefix: ruleNamePrefix, Ascending: true}) {
		if k, ok := ruleOf(v.Task); ok && k.Repo == repo {
			out = append(out, v.Task)
		}
	}
	return out
}

func (d *dialect) rule(k ruleKey) (fsm.Task, bool) {
	for _, t := range d.rules(k.Namespace, k.Repo) {
		if rk, _ := ruleOf(t); rk == k {
			return t, true
		}
	}
	return fsm.Task{}, false
}

func (d *dialect) listRules(r *http.Request, ns, repo string) (reply, error) {
	if err := d.checkRepo(r, ns, repo); err != nil {
		return reply{}, err
	}
	views := []ruleView{}
	for _, t := range d.rules(ns, repo) {
		k, _ := ruleOf(t)
		views = append(views, viewRule(k, t))
	}
	return ok(views), nil
}

// createRule stores the rule, or updates syncAuto and override of the one
// with its key: SWR documents no conflict for sync_repo, and Terraform
// re-applies its rule the same way.
func (d *dialect) createRule(r *http.Request, ns, repo string) (reply, error) {
	body, err := decodeRuleBody(r)
	if err != nil {
		return reply{}, err
	}
	k := ruleKey{Namespace: ns, Repo: repo, Region: body.RemoteRegionID, RemoteNamespace: body.RemoteNamespace}
	if err := d.checkSync(r, k); err != nil {
		return reply{}, err
	}
	dockerRepo, _ := image(k.Repo)
	head, err := d.images.Head(r.Context(), k.Namespace, dockerRepo)
	if err != nil {
		return reply{}, err
	}
	req := ruleTask(k, body.SyncAuto, body.Override)
	for attempt := 0; ; attempt++ {
		if old, found := d.rule(k); found {
			req.Objects[0].FromSeq = old.Objects[0].FromSeq // an update keeps where the rule began
			_, err = d.tasks.UpdateTask(r.Context(), old.Key, req, api.UpdateOptions{})
		} else {
			req.Objects[0].FromSeq = head
			_, err = d.tasks.CreateTask(r.Context(), req)
		}
		// A create racing another for the same key loses on the name: it
		// is then an update.
		if fe := (*fsm.Error)(nil); attempt == 0 && errors.As(err, &fe) && fe.Rule == fsm.RuleNameTaken {
			continue
		}
		if err != nil {
			return reply{}, err
		}
		return ok(struct{}{}), nil
	}
}

// deleteRule deletes the rule the body names; its standing run is canceled
// with the task, what it copied stays on the target.
func (d *dialect) deleteRule(r *http.Request, ns, repo string) (reply, error) {
	body, err := decodeRuleKeyBody(r)
	if err != nil {
		return reply{}, err
	}
	if err := d.checkRepoName(r, ns, repo); err != nil {
		return reply{}, err
	}
	k := ruleKey{Namespace: ns, Repo: repo, Region: body.RemoteRegionID, RemoteNamespace: body.RemoteNamespace}
	t, found := d.rule(k)
	if !found {
		return reply{}, ruleNotFound(k)
	}
	if err := d.tasks.DeleteTask(r.Context(), t.Key); err != nil && fsm.KindOf(err) != fsm.KindNotFound {
		return reply{}, err
	}
	return ok(struct{}{}), nil
}

// tagNode is the node whose outcome is a tag's.
func tagNode(repo, tag string) string {
	_, img := image(repo)
	return oci.TagPath(img, tag)
}
