// Package deploy holds what operators deploy beside the agents: the
// Grafana dashboard (grafana/ferry.json) and Prometheus's alerting rules
// (prometheus/ferry-rules.yml, with their unit tests in
// prometheus/ferry-rules.test.yml). Its tests lint them: the board's
// shape, promtool's check and unit tests of the rules. That every metric
// they name is one the agents export is checked in integration, against
// real agents (integration/deploy_test.go).
//
// This package must not hold Go code the agent runs: it is files and
// their tests.
package deploy
