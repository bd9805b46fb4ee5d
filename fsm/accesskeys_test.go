package fsm

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func accessKey(ak string, p Policy) AccessKey {
	return AccessKey{AccessKey: ak, Secret: NewAccessKeySecret(), Description: "for " + ak, Policy: p}
}

func TestAccessKeyCreateLookupDelete(t *testing.T) {
	a := &applier{f: New()}
	k := accessKey("AKAAAAAAAAAAAAAAAAA1", PolicyWrite)
	if r := a.apply(t, command(t, CmdCreateAccessKey, t0, k)); r.Err != nil {
		t.Fatal(r.Err)
	}
	got, ok := a.f.AccessKey(k.AccessKey)
	if !ok || got.Secret != k.Secret || got.Policy != PolicyWrite || !got.CreatedAt.Equal(t0) {
		t.Fatalf("lookup: %+v %v", got, ok)
	}
	if _, ok := a.f.AccessKey("AKNOPE"); ok {
		t.Fatal("an unknown access key was found")
	}
	if r := a.apply(t, command(t, CmdDeleteAccessKey, t0.Add(time.Second), DeleteAccessKey{AccessKey: k.AccessKey})); r.Err != nil {
		t.Fatal(r.Err)
	}
	if _, ok := a.f.AccessKey(k.AccessKey); ok || len(a.f.AccessKeys()) != 0 {
		t.Fatal("the deleted access key is still there")
	}
}

// A retried create (same command id) must not bring back a key deleted in
// between, and a retried delete is no error.
func TestAccessKeyCommandsAreIdempotent(t *testing.T) {
	a := &applier{f: New()}
	create := command(t, CmdCreateAccessKey, t0, accessKey("AK1", PolicyRead))
	del := command(t, CmdDeleteAccessKey, t0.Add(time.Second), DeleteAccessKey{AccessKey: "AK1"})
	for _, c := range []Command{create, del, create, del} {
		if r := a.apply(t, c); r.Err != nil {
			t.Fatalf("%s: %v", c.Type, r.Err)
		}
	}
	if _, ok := a.f.AccessKey("AK1"); ok {
		t.Fatal("retried create resurrected the access key")
	}
}

func TestAccessKeyRefusals(t *testing.T) {
	a := &applier{f: New()}
	a.apply(t, command(t, CmdCreateAccessKey, t0, accessKey("AK1", PolicyRead)))
	long := accessKey("AK5", PolicyRead)
	long.Description = strings.Repeat("x", MaxTokenDescription+1)
	short := accessKey("AK6", PolicyRead)
	short.Secret = "tooshort"
	cases := []struct {
		name string
		cmd  Command
		kind ErrorKind
	}{
		{"duplicate", command(t, CmdCreateAccessKey, t0, accessKey("AK1", PolicyAdmin)), KindConflict},
		{"empty id", command(t, CmdCreateAccessKey, t0, accessKey("", PolicyRead)), KindInvalid},
		{"comma in id", command(t, CmdCreateAccessKey, t0, accessKey("AK,2", PolicyRead)), KindInvalid},
		{"bad policy", command(t, CmdCreateAccessKey, t0, accessKey("AK3", "root")), KindInvalid},
		{"description too long", command(t, CmdCreateAccessKey, t0, long), KindInvalid},
		{"short secret", command(t, CmdCreateAccessKey, t0, short), KindInvalid},
		{"missing", command(t, CmdDeleteAccessKey, t0, DeleteAccessKey{AccessKey: "AKNOPE"}), KindNotFound},
	}
	for _, c := range cases {
		if r := a.apply(t, c.cmd); KindOf(r.Err) != c.kind {
			t.Errorf("%s: got %v (kind %q), want kind %q", c.name, r.Err, KindOf(r.Err), c.kind)
		}
	}
}

func TestAccessKeysAreAdminCommands(t *testing.T) {
	for _, c := range []CommandType{CmdCreateAccessKey, CmdDeleteAccessKey} {
		if c.RequiredPolicy() != PolicyAdmin || c.InternalOnly() {
			t.Errorf("%s needs %q (internal %v), want admin through the API", c, c.RequiredPolicy(), c.InternalOnly())
		}
	}
}

func TestGeneratedAccessKeys(t *testing.T) {
	ak, sk := NewAccessKeyID(), NewAccessKeySecret()
	if len(ak) != AccessKeyIDLength || strings.ToUpper(ak) != ak || !alnum(ak) {
		t.Fatalf("AK %q is not %d uppercase letters and digits", ak, AccessKeyIDLength)
	}
	if len(sk) != AccessKeySecretLength || !alnum(sk) {
		t.Fatalf("SK %q is not %d letters and digits", sk, AccessKeySecretLength)
	}
	if err := ValidateAccessKey(AccessKey{AccessKey: ak, Secret: sk, Policy: PolicyRead}); err != nil {
		t.Fatalf("a generated pair is refused: %v", err)
	}
}

func TestAccessKeysSurviveSnapshot(t *testing.T) {
	f, _ := populated(t)
	g := New()
	if err := g.Restore(nopReader(persist(t, f))); err != nil {
		t.Fatal(err)
	}
	want := f.AccessKeys()
	got := g.AccessKeys()
	if len(want) != 2 || !reflect.DeepEqual(got, want) {
		t.Fatalf("restored access keys %+v, want %+v", got, want)
	}
}

func nopReader(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
