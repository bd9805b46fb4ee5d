// Package config owns the agent's configuration: defaults, the YAML file,
// FERRY_* environment variables and command-line flags (flags win over the
// environment, which wins over the file), and validation that names the
// offending field in one line.
//
// A Config is a plain value. Nothing here is read at use time: the agent gets
// a validated Config once at start and nothing else looks at files, flags or
// the environment.
package config
