package agent

import (
	"context"

	"github.com/ferrysync/ferry/fsm"
)

// Pulp consumers of this region's Pulp server, and their content: a unit
// is installed by copying it from the bound repository (this region's) to
// the consumer's region's repository of the same id, as a replication run.

// PulpConsumers lists the consumers registered here.
func (a *Agent) PulpConsumers() []fsm.PulpConsumer { return a.fsm.PulpConsumers(a.cfg.ClusterID) }

// PulpConsumer is one consumer registered here.
func (a *Agent) PulpConsumer(id string) (fsm.PulpConsumer, bool) {
	return a.fsm.PulpConsumer(a.cfg.ClusterID, id)
}

// CreatePulpConsumer registers a consumer with this region's Pulp server.
func (a *Agent) CreatePulpConsumer(ctx context.Context, c fsm.PulpConsumer) (fsm.PulpConsumer, error) {
	c.Cluster = a.cfg.ClusterID
	if err := a.proposePulp(ctx, fsm.CmdPulpCreateConsumer, c); err != nil {
		return fsm.PulpConsumer{}, err
	}
	out, _ := a.PulpConsumer(c.ID)
	return out, nil
}

// UpdatePulpConsumer applies a consumer's PUT delta.
func (a *Agent) UpdatePulpConsumer(ctx context.Context, u fsm.PulpConsumerUpdate) (fsm.PulpConsumer, error) {
	u.Cluster = a.cfg.ClusterID
	if err := a.proposePulp(ctx, fsm.CmdPulpUpdateConsumer, u); err != nil {
		return fsm.PulpConsumer{}, err
	}
	out, _ := a.PulpConsumer(u.ID)
	return out, nil
}

// DeletePulpConsumer unregisters a consumer, with its bindings.
func (a *Agent) DeletePulpConsumer(ctx context.Context, id string) error {
	return a.proposePulp(ctx, fsm.CmdPulpDeleteConsumer, fsm.PulpRepoRef{Cluster: a.cfg.ClusterID, ID: id})
}

// BindPulpConsumer binds (again) a consumer to a repository's distributor.
func (a *Agent) BindPulpConsumer(ctx context.Context, consumer string, b fsm.PulpBinding) (fsm.PulpConsumer, error) {
	if err := a.proposePulp(ctx, fsm.CmdPulpBind, fsm.PulpBindingPut{Cluster: a.cfg.ClusterID, Consumer: consumer, Binding: b}); err != nil {
		return fsm.PulpConsumer{}, err
	}
	out, _ := a.PulpConsumer(consumer)
	return out, nil
}

// UnbindPulpConsumer removes a binding.
func (a *Agent) UnbindPulpConsumer(ctx context.Context, consumer, repo, dist string) error {
	return a.proposePulp(ctx, fsm.CmdPulpUnbind, fsm.PulpBindingPut{Cluster: a.cfg.ClusterID, Consumer: consumer,
		Binding: fsm.PulpBinding{Repo: repo, Distributor: dist}})
}
