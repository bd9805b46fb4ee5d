// Package feed syncs one store repository from a file feed: a URL whose
// PULP_MANIFEST lists the feed's files as name,sha256,size rows. It is the
// engine of Pulp 2's ISO importer (iso_importer, contract pulp2.md §11),
// which the Pulp dialect runs as a Ferry run; Pulp 3's pulp_file reads the
// same manifest.
//
// It owns: reading a manifest exactly as Pulp's Python csv reader did
// (ParseManifest, WriteManifest), reading a feed's URL as Pulp did (a "/"
// appended, credentials moved to basic auth; http, https and file), and
// Sync: deciding per file whether the repository already holds it, the
// store holds its content elsewhere (linked, not downloaded) or it must be
// downloaded; downloading with bounded concurrency through one token-bucket
// rate limit; writing through the store, which verifies size and sha256
// and replaces a file whole or not at all; resuming large downloads through
// the store's uploads when given them; deleting what the feed no longer
// lists; and the progress report, field for field Pulp's
// progress_report.iso_importer (Progress), with the states Pulp went
// through.
//
// It must not know about Pulp's HTTP API, its tasks, call reports or
// schedules, nor about importer configuration documents: the Pulp dialect
// maps an importer's config (feed, validate, remove_missing, max_downloads,
// max_speed, basic auth, TLS and proxy as an *http.Client) to Options, runs
// Sync, puts each Progress into its task's progress_report and turns the
// returned error into the task's error; the agent and the scheduler decide
// when a sync runs. It writes into the one repository it is given and
// nowhere else (a Link only reads content the store holds), and keeps no
// state between syncs: what a repository holds is the state, which is why a
// re-sync of an unchanged feed fetches nothing but the manifest.
package feed
