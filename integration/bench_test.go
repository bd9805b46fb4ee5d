package integration

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkLeaderFailover kills the leader of a three-agent group (no leave,
// no leadership transfer: a crash) and measures, per failover,
//   - until both survivors report the same new leader (polled every 5 ms), and
//   - until a write issued through a survivor right after the kill succeeds.
//
// The old leader is restarted from its data dir between rounds (not timed).
//
//	go test -run '^$' -bench BenchmarkLeaderFailover -benchtime 9x ./integration/
func BenchmarkLeaderFailover(b *testing.B) {
	nodes := startGroup(b, regions)
	var toLeader, toWrite []time.Duration
	for b.Loop() {
		leader := sameLeader(b, 30*time.Second, nodes...)
		old := nodeByID(nodes, leader.ID)
		var survivors []*node
		for _, n := range nodes {
			if n != old {
				survivors = append(survivors, n)
			}
		}
		writeDone := make(chan time.Duration, 1)
		start := time.Now()
		old.stop()
		go func() {
			r, err := tryCall("POST", survivors[0].url()+"/v1/acl/tokens", bearer(mgmtToken), map[string]string{"policy": "read"})
			if err != nil || r.status != http.StatusCreated {
				writeDone <- -1
				return
			}
			writeDone <- time.Since(start)
		}()
		pollLeader(b, old.id(), survivors)
		toLeader = append(toLeader, time.Since(start))
		w := <-writeDone
		if w < 0 {
			b.Fatal("write through a survivor failed during failover")
		}
		toWrite = append(toWrite, w)

		b.StopTimer()
		old.restart(withJoin(survivors...))
		sameLeader(b, 30*time.Second, nodes...)
		eventually(b, 30*time.Second, "restarted agent is a voter again", func() error {
			if s := suffrages(peersOf(b, survivors[0]))[old.id()]; s != "voter" {
				return fmt.Errorf("suffrage %q", s)
			}
			return nil
		})
		b.StartTimer()
	}
	b.ReportMetric(float64(median(toLeader).Milliseconds()), "ms-to-new-leader(median)")
	b.ReportMetric(float64(median(toWrite).Milliseconds()), "ms-to-first-write(median)")
	b.ReportMetric(float64(slices.Max(toLeader).Milliseconds()), "ms-to-new-leader(max)")
	b.Logf("to new leader: %v; to first write: %v", toLeader, toWrite)
}

func pollLeader(b *testing.B, old string, survivors []*node) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		l0, err0 := leaderOf(survivors[0])
		l1, err1 := leaderOf(survivors[1])
		if err0 == nil && err1 == nil && l0.ID != old && l0 == l1 {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	b.Fatal("no new leader within 30s")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkWrite measures replicated writes (token creation: a Raft commit on
// three agents) answered by the leader and by a follower that forwards to the
// leader and waits until it has applied the write itself. Serial is one client;
// Parallel16 is sixteen concurrent clients.
//
//	go test -run '^$' -bench BenchmarkWrite -benchtime 3s ./integration/
func BenchmarkWrite(b *testing.B) {
	nodes := startGroup(b, regions)
	leader := sameLeader(b, 30*time.Second, nodes...)
	targets := map[string]*node{"leader": nodeByID(nodes, leader.ID), "follower": followerOf(nodes, leader.ID)}
	body := map[string]string{"description": "bench", "policy": "read"}
	for _, name := range []string{"leader", "follower"} {
		url := targets[name].url() + "/v1/acl/tokens"
		write := func() {
			r, err := tryCall("POST", url, bearer(mgmtToken), body)
			if err != nil || r.status != http.StatusCreated {
				b.Errorf("write: %v %d %s", err, r.status, r.body)
			}
		}
		b.Run(name+"/Serial", func(b *testing.B) {
			for b.Loop() {
				write()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		})
		b.Run(name+"/Parallel16", func(b *testing.B) {
			var done atomic.Int64
			var wg sync.WaitGroup
			work := make(chan struct{})
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range work {
						write()
						done.Add(1)
					}
				}()
			}
			for b.Loop() {
				work <- struct{}{}
			}
			close(work)
			wg.Wait()
			b.ReportMetric(float64(done.Load())/b.Elapsed().Seconds(), "writes/s")
		})
	}
}
