package pulp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"github.com/ferrysync/ferry/fsm"
)

// Pulp's shapes (serializers in server/pulp/server/webservices/views/).

// oid is a Mongo ObjectId as Pulp serializes one: {"$oid": "<24 hex>"},
// derived from what the object is, so it stays the same.
func oid(parts ...string) map[string]string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return map[string]string{"$oid": hex.EncodeToString(sum[:12])}
}

func repoHref(id string) string { return Prefix + "/repositories/" + id + "/" }

func taskHref(id string) string { return Prefix + "/tasks/" + id + "/" }

// repoView is serializers.Repository; importers and distributors when
// asked (?importers=true, ?distributors=true, ?details=true).
func repoView(r fsm.PulpRepo, units int64, importers, distributors bool) map[string]any {
	counts := map[string]int64{}
	if units > 0 {
		counts["iso"] = units
	}
	notes := r.Notes
	if notes == nil {
		notes = map[string]json.RawMessage{}
	}
	v := map[string]any{
		"id": r.ID, "display_name": r.DisplayName, "description": r.Description, "notes": notes, "scratchpad": map[string]any{},
		"content_unit_counts": counts, "last_unit_added": nil, "last_unit_removed": nil,
		"_ns": "repos", "_id": oid("repo", r.Cluster, r.ID), "_href": repoHref(r.ID),
	}
	if importers {
		list := []any{}
		if r.Importer != nil {
			list = append(list, importerView(r, *r.Importer))
		}
		v["importers"] = list
	}
	if distributors {
		list := []any{}
		for _, d := range r.Distributors {
			list = append(list, distributorView(r, d))
		}
		v["distributors"] = list
	}
	return v
}

// secretKeys are config keys Pulp shows masked.
var secretKeys = []string{"basic_auth_password", "proxy_password"}

// masked is a config as a client sees it: the secrets Pulp masks, and the
// password of a feed URL's user:password@, which Pulp showed (a Ferry read
// token must not read a write credential; docs/pulp.md).
func masked(config map[string]json.RawMessage) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range config {
		out[k] = v
		if slices.Contains(secretKeys, k) {
			out[k] = json.RawMessage(`"*****"`)
		}
	}
	var feed string
	if raw, ok := config["feed"]; ok && json.Unmarshal(raw, &feed) == nil {
		out["feed"], _ = json.Marshal(fsm.RedactURL(feed))
	}
	return out
}

// importerView is the 2.4+ ImporterSerializer; last_override_config is
// always {} (Pulp's fix for CVE issue 3521).
func importerView(r fsm.PulpRepo, imp fsm.PulpImporter) map[string]any {
	return map[string]any{
		"_href": repoHref(r.ID) + "importers/" + imp.TypeID + "/", "_id": oid("importer", r.Cluster, r.ID), "_ns": "repo_importers",
		"id": imp.TypeID, "importer_type_id": imp.TypeID, "repo_id": r.ID, "config": masked(imp.Config),
		"last_sync": FormatTime(imp.LastSync), "last_updated": FormatTime(imp.LastUpdated), "last_override_config": map[string]any{}, "scratchpad": nil,
	}
}

func distributorView(r fsm.PulpRepo, d fsm.PulpDistributor) map[string]any {
	return map[string]any{
		"_href": repoHref(r.ID) + "distributors/" + d.ID + "/", "_id": oid("distributor", r.Cluster, r.ID, d.ID), "_ns": "repo_distributors",
		"id": d.ID, "distributor_type_id": d.TypeID, "repo_id": r.ID, "config": masked(d.Config), "auto_publish": d.AutoPublish,
		"last_publish": FormatTime(d.LastPublish), "scratchpad": map[string]any{},
	}
}

// taskView is a task as 2.4+ shows it, with the fields a 2.0-2.3 client
// reads of a call report too (progress, response, reasons, task_group_id,
// job_id, schedule_id): extra keys are harmless to both.
func taskView(t fsm.PulpTask, withQueue bool) map[string]any {
	var result any
	if len(t.Result) > 0 {
		result = t.Result
	}
	var taskErr any
	if t.Error != "" {
		taskErr = map[string]any{"code": "PLP0000", "description": t.Error, "data": map[string]any{}, "sub_errors": []any{}}
	}
	worker := "reserved_resource_worker-0@" + t.Cluster
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	v := map[string]any{
		"_href": taskHref(t.ID), "_id": oid("task", t.ID), "id": t.ID, "_ns": "task_status", "task_id": t.ID, "task_type": t.Type,
		"state": t.State, "worker_name": worker, "tags": tags, "progress_report": map[string]any{}, "progress": map[string]any{},
		"result": result, "error": taskErr, "exception": nil, "traceback": nil, "spawned_tasks": []any{},
		"start_time": FormatTime(t.StartTime), "finish_time": FormatTime(t.FinishTime),
		"response": "accepted", "reasons": []any{}, "task_group_id": nil, "job_id": nil, "schedule_id": nil,
	}
	if withQueue {
		v["queue"] = worker + ".dq"
	}
	return v
}

// callReport is the 202 answer of an asynchronous call: one object that is
// a superset of both generations' (contract §5), spawning t.
func callReport(t fsm.PulpTask) map[string]any {
	v := taskView(t, false)
	spawned := map[string]string{"_href": taskHref(t.ID), "task_id": t.ID}
	v["result"], v["error"], v["spawned_tasks"] = nil, nil, []any{spawned}
	return v
}
