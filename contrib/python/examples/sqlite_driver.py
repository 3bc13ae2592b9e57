"""A realistic seed-API driver: users, their SSH keys and their grants in a
SQLite file (stdlib sqlite3), repositories under one root as NAME.git.

As a driver (gitserver runs it through gitserver-driver; the two
arguments after -- are this module's sys.argv[1:]):

    [drivers.exec]
    command = ["/usr/local/libexec/gitserver/gitserver-driver",
               "--module", "/usr/local/libexec/gitserver/examples/sqlite_driver.py",
               "--", "/var/lib/gitserver/users.sqlite3", "/srv/git"]

As an admin tool:

    sqlite_driver.py DB init
    sqlite_driver.py DB add-key alice "ssh-ed25519 AAAA... alice@laptop"
    sqlite_driver.py DB grant alice team/app write      # or read
"""

import base64
import os
import sqlite3
import sys

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS keys (
    blob    BLOB PRIMARY KEY,               -- public key, SSH wire format
    user_id INTEGER NOT NULL REFERENCES users(id)
);
CREATE TABLE IF NOT EXISTS grants (
    user_id INTEGER NOT NULL REFERENCES users(id),
    repo    TEXT NOT NULL,                  -- canonical name: team/app
    access  TEXT NOT NULL CHECK (access IN ('read', 'write')),
    PRIMARY KEY (user_id, repo)
);
"""

DB = sys.argv[1] if len(sys.argv) > 1 else "/var/lib/gitserver/users.sqlite3"
REPOS = sys.argv[2] if len(sys.argv) > 2 else "/srv/git"
WRITE_COMMANDS = {"git-receive-pack"}
READ_COMMANDS = {"git-upload-pack", "git-upload-archive"}

_conn = None


def _db():
    """One read-only connection per driver process, opened on first use."""
    global _conn
    if _conn is None:
        _conn = sqlite3.connect("file:%s?mode=ro" % DB, uri=True)
    return _conn


def repo_name(path):
    """The canonical name for a path as the client sent it: "/team/app",
    "team/app.git" and "team/app" are all "team/app"."""
    name = path.strip("/")
    if name.endswith(".git"):
        name = name[: -len(".git")]
    return name


class User:
    def __init__(self, user_id, name, grants):
        self.id = user_id
        self.name = name
        self.grants = grants  # repo name -> "read" or "write"

    def __repr__(self):
        return "User(%r)" % self.name


def authenticate(credentials):
    row = _db().execute(
        "SELECT users.name FROM keys JOIN users ON users.id = keys.user_id WHERE keys.blob = ?",
        (bytes(credentials.blob),),
    ).fetchone()
    if row is None:
        return False
    credentials.username = row[0]
    return True


def get_user_model(user_id):
    row = _db().execute("SELECT id, name FROM users WHERE name = ?", (user_id,)).fetchone()
    if row is None:
        return None
    grants = dict(_db().execute("SELECT repo, access FROM grants WHERE user_id = ?", (row[0],)))
    return User(row[0], row[1], grants)


def authorize(model, command, path):
    access = model.grants.get(repo_name(path))
    if command in READ_COMMANDS:
        return access in ("read", "write")
    if command in WRITE_COMMANDS:
        return access == "write"
    return False


def repopath(reponame):
    name = repo_name(reponame)
    path = os.path.normpath(os.path.join(REPOS, name + ".git"))
    if not path.startswith(os.path.normpath(REPOS) + os.sep):
        raise ValueError("repository %r is outside %s" % (reponame, REPOS))
    return path


# Admin commands.

def _admin(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    db, cmd, args = argv[0], argv[1], argv[2:]
    conn = sqlite3.connect(db)
    with conn:
        conn.executescript(SCHEMA)
        if cmd == "init" and not args:
            pass
        elif cmd == "add-key" and len(args) == 2:
            blob = base64.b64decode(args[1].split()[1], validate=True)
            conn.execute("INSERT OR IGNORE INTO users (name) VALUES (?)", (args[0],))
            conn.execute("INSERT INTO keys (blob, user_id) SELECT ?, id FROM users WHERE name = ?", (blob, args[0]))
        elif cmd == "grant" and len(args) == 3 and args[2] in ("read", "write"):
            conn.execute("INSERT OR IGNORE INTO users (name) VALUES (?)", (args[0],))
            conn.execute(
                "INSERT OR REPLACE INTO grants (user_id, repo, access) SELECT id, ?, ? FROM users WHERE name = ?",
                (repo_name(args[1]), args[2], args[0]),
            )
        else:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(_admin(sys.argv[1:]))
