package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The OCI distribution-spec conformance suites, built from the Go module
// proxy: the 2023 Ginkgo suite (v1.1.0 era) and the 2026 redesign
// (@latest when this was written). sha512 is left off: the store's
// content keys are sha256.
const (
	conformanceModule = "github.com/opencontainers/distribution-spec/conformance"
	conformance2026   = "v0.0.0-20260831232431-97274622c111"
	conformance2023   = "v0.0.0-20231101194043-f2182352d4cc"
)

// buildConformance builds the suite at version: the 2026 one as its
// program, the 2023 one as its test binary.
func buildConformance(t *testing.T, version string, testBinary bool) string {
	t.Helper()
	dir, bin := t.TempDir(), filepath.Join(t.TempDir(), "oci-conformance")
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	run := func(args ...string) {
		cmd := exec.Command(goCmd, args...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("mod", "init", "conformance.local")
	if testBinary {
		run("get", "-t", conformanceModule+"@"+version)
		run("test", "-c", "-o", bin, conformanceModule)
	} else {
		run("get", conformanceModule+"@"+version)
		run("build", "-o", bin, conformanceModule)
	}
	return bin
}

func runConformance(t *testing.T, bin string, env []string, passed string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Dir, cmd.Env = t.TempDir(), append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	// The 2026 suite exits 0 when its configuration fails to load: only its
	// verdict line says it ran and passed.
	if err != nil || !strings.Contains(string(out), passed) {
		t.Fatalf("conformance: %v\n%s", err, out)
	}
}

// An agent passes both suites with pull, push, content discovery and
// content management.
func TestOCIConformance(t *testing.T) {
	suite2026 := buildConformance(t, conformance2026, false)
	suite2023 := buildConformance(t, conformance2023, true)
	n := startGroup(t, regions[:1], withBootstrapExpect(1))[0]
	makeRepo(t, n.url(), "", "conformance", "placeholder", "GENERIC")
	host := strings.TrimPrefix(n.url(), "http://")

	t.Run("2026", func(t *testing.T) {
		for _, version := range []string{"1.1", "dev"} {
			runConformance(t, suite2026, []string{"OCI_VERSION=" + version, "OCI_REGISTRY=" + host, "OCI_TLS=disabled",
				"OCI_REPO1=conformance/v" + strings.ReplaceAll(version, ".", "") + "-one", "OCI_REPO2=conformance/v" + strings.ReplaceAll(version, ".", "") + "-two",
				"OCI_USERNAME=ci", "OCI_PASSWORD=" + mgmtToken, "OCI_DATA_SHA512=false", "OCI_RESULTS_DIR=" + t.TempDir()},
				"OCI Conformance Test: Pass")
		}
	})
	t.Run("2023", func(t *testing.T) {
		runConformance(t, suite2023, []string{"OCI_ROOT_URL=" + n.url(), "OCI_NAMESPACE=conformance/ginkgo-one", "OCI_CROSSMOUNT_NAMESPACE=conformance/ginkgo-two",
			"OCI_USERNAME=ci", "OCI_PASSWORD=" + mgmtToken, "OCI_TEST_PULL=1", "OCI_TEST_PUSH=1", "OCI_TEST_CONTENT_DISCOVERY=1",
			"OCI_TEST_CONTENT_MANAGEMENT=1", "OCI_AUTOMATIC_CROSSMOUNT=1", "OCI_REPORT_DIR=none"}, "0 Failed")
	})
}
