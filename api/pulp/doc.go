// Package pulp serves Pulp 2's REST API (/pulp/api/v2/, as the seed
// documents ../shared/seeds/pulp-v2-*.txt and Pulp's own source define it;
// ../shared/contracts/pulp2.md is the contract) over Ferry's services.
//
// It owns Pulp's wire: the paths (every one with and without its trailing
// slash), the error body with its PLP codes, the 401 answers of HTTP Basic
// where the password is a Ferry token, 404 null for an unknown URL, and the
// YYYY-MM-DDTHH:MM:SSZ times. It must not decide anything about
// repositories, feeds, schedules or tasks: those rules are the services'
// (fsm, scheduler, feed, agent), for every dialect.
//
// It imports api, never the reverse; the agent mounts it with Register right
// after api.New.
package pulp
