package config

import "fmt"

// unixName reports whether s is a portable POSIX user name, as useradd
// accepts it: [a-z_][a-z0-9_.-]{0,31}. (A loop, not a regexp: compiling
// one at start-up costs every sshd login a tenth of a millisecond.)
func unixName(s string) bool {
	if s == "" || len(s) > 32 || !(s[0] == '_' || 'a' <= s[0] && s[0] <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Validate checks the values that do not depend on the machine; 'gitserver
// check' looks at the machine (owners, modes, sshd).
func (c *Config) Validate() error {
	if !unixName(c.SSHUser) {
		return fmt.Errorf("ssh_user %q is not a valid login name (lowercase letters, digits, _ . -)", c.SSHUser)
	}
	if c.Repos == "" {
		return fmt.Errorf("repos is empty; set it to the directory that holds the repositories")
	}
	if c.DataDir == "" {
		return fmt.Errorf("data_dir is empty; set it to the directory for the key store")
	}
	if c.Driver == "" {
		return fmt.Errorf(`driver is empty; use driver = "file"`)
	}
	switch c.Log.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level %q is not one of trace, debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format %q is not text or json", c.Log.Format)
	}
	if err := c.Store.validate(); err != nil {
		return err
	}
	if err := c.LFS.validate(); err != nil {
		return err
	}
	if err := c.Maintain.validate(); err != nil {
		return err
	}
	if c.MetricsListen != "" && !hostPort(c.MetricsListen) {
		return fmt.Errorf("metrics_listen %q: want host:port, e.g. \"127.0.0.1:9464\"", c.MetricsListen)
	}
	return c.Listen.validate()
}
