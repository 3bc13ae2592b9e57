package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/bounded"
	"github.com/gitserver/gitserver/internal/pgstore"
	"github.com/gitserver/gitserver/internal/replicate"
	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/internal/statewrite"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
)

// writeTimeout bounds one write here, inside statewrite.DefaultTimeout.
const writeTimeout = 50 * time.Second

// write does the request on stdin and answers on stdout. Every failure
// but a broken stdout is in the answer, so that gitserver shows it.
func write(ctx context.Context, f common, stdin io.Reader, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	resp := func() statewrite.Response {
		req, err := readRequest(stdin)
		if err != nil {
			return failed(err)
		}
		a, pg, _, err := open(ctx, f)
		if err != nil {
			return failed(err)
		}
		defer a.Close()
		defer pg.Close()
		return do(ctx, a, pg, req)
	}()
	return json.NewEncoder(stdout).Encode(resp)
}

func failed(err error) statewrite.Response {
	return statewrite.Response{Error: statewrite.NewError(err)}
}

// readRequest reads and checks one request.
func readRequest(r io.Reader) (statewrite.Request, error) {
	data, err := bounded.ReadAll(r, statewrite.MaxRequest, "the request")
	if err != nil {
		return statewrite.Request{}, err
	}
	var req statewrite.Request
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return statewrite.Request{}, fmt.Errorf("bad request: %v", err)
	}
	return req, req.Check()
}

// do writes req to pg, then brings this host's replica up to date.
func do(ctx context.Context, a *setup.App, pg *pgstore.Store, req statewrite.Request) statewrite.Response {
	log := a.Log.Named("store")
	var resp statewrite.Response
	var err error
	switch req.Op {
	case statewrite.OpKeysAdd:
		resp.Added, err = pg.AddKeys(ctx, req.Records)
		resp.Count = len(resp.Added)
	case statewrite.OpKeysImport:
		var rejected []error
		resp.Count, rejected, err = pg.ImportKeys(ctx, req.Records)
		for _, r := range rejected {
			resp.Rejected = append(resp.Rejected, r.Error())
		}
	case statewrite.OpKeysRemove:
		resp.Count, err = pg.RemoveKeys(ctx, req.Fingerprints...)
	case statewrite.OpKeysRemoveUser:
		resp.Count, err = pg.RemoveUser(ctx, req.User)
	case statewrite.OpKeysRemoveOwn:
		err = pg.RemoveOwn(ctx, req.User, req.Fingerprints[0], req.KeepLast)
		if err == nil {
			resp.Count = 1
		}
	case statewrite.OpPolicyPush:
		// Checked again here, where it is stored: a policy that does
		// not parse would lock every host out.
		if _, err = policy.Parse(a.Cfg.Policy, bytes.NewReader(req.Policy)); err == nil {
			resp.Version, err = pg.PushPolicy(ctx, req.Policy, req.By)
		}
	}
	if err != nil {
		log.Warn("shared store write refused", "op", req.Op, "by", req.By, "error", err)
		return failed(err)
	}
	log.Info("shared store written", "op", req.Op, "by", req.By, "count", resp.Count, "version", resp.Version)
	if err := syncHere(ctx, a, pg, log); err != nil {
		resp.Warning = "written to PostgreSQL, but this host's replica is not up to date yet (gitserver replicate will bring it): " + err.Error()
		log.Warn("replica not brought up to date after a write", "error", err)
	}
	return resp
}

// syncHere brings this host's replica up to date: read-your-writes.
func syncHere(ctx context.Context, a *setup.App, pg *pgstore.Store, log hclog.Logger) error {
	return replicate.Sync(ctx, pg, keys.Open(a.Cfg.KeysPath(), a.Owner.KeyOptions()), log, replicaOptions(a))
}
