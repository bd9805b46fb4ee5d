package replicator

import (
	"context"
	"log/slog"
	"strings"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// runCtx is what every stage of one run reads, fixed when the run starts:
// the stages take it rather than reaching through the executor's config.
type runCtx struct {
	spec fsm.ReplicaSpec
	// by names the run in a target's change log ("replication:" + run ID).
	by      string
	store   store.Store
	db      *localDB
	metrics *metrics
	outbox  *depthGauge
	log     *slog.Logger
	// parallelism is the concurrent transfers per target; chunkSize the
	// most bytes one upload request carries.
	parallelism int
	chunkSize   int64
	// record keeps an object's outcome in the run's detail; fail ends the
	// whole run (FAST_FAIL) with a reason.
	record func(ObjectRecord)
	fail   context.CancelCauseFunc
}

// context is the run's stage context.
func (x *runExec) context() *runCtx {
	cfg := &x.e.cfg
	return &runCtx{
		spec: x.run.Spec, by: "replication:" + x.run.ID,
		store: cfg.Store, db: x.e.objects, metrics: x.e.metrics, outbox: &x.e.outbox, log: x.log,
		parallelism: max(cfg.Parallelism, 1), chunkSize: cfg.ChunkSize,
		record: x.record, fail: x.fail,
	}
}

// metadata is what of an object's metadata the run carries.
func (rc *runCtx) metadata(o object) map[string]string {
	return carriedMetadata(o.Metadata, rc.spec.Setting.IncludeMetadata)
}

// carriedMetadata is what of a node's metadata replication carries: all of
// it with includeMetadata, else only the keys a node cannot be served
// without (oci.*: an image node's media type), so that a replica never
// answers a manifest with the wrong Content-Type. Both ends apply it.
func carriedMetadata(meta map[string]string, include bool) map[string]string {
	if include {
		return meta
	}
	var out map[string]string
	for k, v := range meta {
		if strings.HasPrefix(k, oci.MetaPrefix) {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}
