package setup

import (
	"github.com/gitserver/gitserver/internal/builtin"
	"github.com/gitserver/gitserver/shim"
	"github.com/hashicorp/go-hclog"
)

// Shim is the request pipeline for driver d with this config: the one
// 'gitserver shell' and 'gitserver serve' both serve every request with.
// The hooks directory is written at a push (Shim.Hooks), repos
// are created on push as 'repos create' makes them, built-in commands run
// with package internal/builtin, and request lines go to log.
func (a *App) Shim(d shim.Driver, log hclog.Logger) (*shim.Shim, error) {
	git, err := shim.LookGit()
	if err != nil {
		return nil, err
	}
	var lfs *shim.LFSConfig
	if a.Cfg.LFS.Enabled {
		lfs = &shim.LFSConfig{MaxObjectSize: int64(a.Cfg.LFS.MaxObjectSize)}
	}
	return &shim.Shim{
		LFS:      lfs,
		ReadOnly: a.readOnlyFor,
		Driver:   d,
		Root:     a.Cfg.Repos,
		Git:      git,
		Home:     a.Owner.Home,
		Hooks:    a.HooksFor("", d),
		Create:   a.CreateOnPush(git),
		Builtin:  builtin.Run,
		Log:      log,
	}, nil
}
