package swr

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/ferrysync/ferry/oci"
)

// The sync calls' bodies (contract §1.2). Required strings missing or
// empty are SWR's lost parameters (4001036); anything unreadable, an
// invalid parameter (4000014).

type ruleKeyBody struct {
	RemoteRegionID  string `json:"remoteRegionId"`
	RemoteNamespace string `json:"remoteNamespace"`
}

type ruleBody struct {
	ruleKeyBody
	SyncAuto bool `json:"syncAuto"`
	// SynAuto is the old SDKs' spelling (contract: "synAuto").
	SynAuto  *bool `json:"synAuto"`
	Override bool  `json:"override"`
}

type syncImagesBody struct {
	ruleKeyBody
	ImageTag []string `json:"imageTag"`
	Override bool     `json:"override"`
}

func (b ruleKeyBody) check() *Error {
	switch {
	case b.RemoteRegionID == "":
		return parametersLost("remoteRegionId")
	case b.RemoteNamespace == "":
		return parametersLost("remoteNamespace")
	}
	return nil
}

func parametersLost(name string) *Error {
	return refuse(http.StatusBadRequest, CodeParametersLost, "Parameters are lost", "%s", name)
}

// readAll reads a body within the dialect's bound.
func readAll(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return nil, bodyError(err)
	}
	return b, nil
}

// decodeJSON reads one JSON object and nothing after it.
func decodeJSON(b []byte, v any) *Error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return invalidParameter("body: %v", err)
	}
	if dec.More() {
		return invalidParameter("body: more than one JSON value")
	}
	return nil
}

func decodeRule(b []byte) (ruleBody, *Error) {
	var body ruleBody
	if e := decodeJSON(b, &body); e != nil {
		return body, e
	}
	if body.SynAuto != nil && !body.SyncAuto {
		body.SyncAuto = *body.SynAuto
	}
	return body, body.check()
}

func decodeRuleKey(b []byte) (ruleKeyBody, *Error) {
	var body ruleKeyBody
	if e := decodeJSON(b, &body); e != nil {
		return body, e
	}
	return body, body.check()
}

// decodeSyncImages also refuses an empty tag: it names nothing to copy.
func decodeSyncImages(b []byte) (syncImagesBody, *Error) {
	var body syncImagesBody
	if e := decodeJSON(b, &body); e != nil {
		return body, e
	}
	if len(body.ImageTag) == 0 {
		return body, parametersLost("imageTag")
	}
	for _, t := range body.ImageTag {
		if !oci.ValidTag(t) {
			return body, invalidParameter("imageTag %q is not a tag", t)
		}
	}
	return body, body.check()
}

func decodeRuleBody(r *http.Request) (ruleBody, error) {
	b, err := readAll(r)
	if err != nil {
		return ruleBody{}, err
	}
	body, e := decodeRule(b)
	if e != nil {
		return body, e
	}
	return body, nil
}

func decodeRuleKeyBody(r *http.Request) (ruleKeyBody, error) {
	b, err := readAll(r)
	if err != nil {
		return ruleKeyBody{}, err
	}
	body, e := decodeRuleKey(b)
	if e != nil {
		return body, e
	}
	return body, nil
}

func decodeSyncImagesBody(r *http.Request) (syncImagesBody, error) {
	b, err := readAll(r)
	if err != nil {
		return syncImagesBody{}, err
	}
	body, e := decodeSyncImages(b)
	if e != nil {
		return body, e
	}
	return body, nil
}
