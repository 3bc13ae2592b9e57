"""The examples behind the real launcher, over real pipes."""

import base64
import json
import os
import subprocess

from conftest import ROOT

LAUNCHER = os.path.join(ROOT, "gitserver-driver")
SQLITE = os.path.join(ROOT, "examples", "sqlite_driver.py")
HELLO = {"protocol": "gitserver-driver", "versions": [1]}


def talk(argv, *msgs):
    lines = "".join(json.dumps(m) + "\n" for m in msgs)
    p = subprocess.run(argv, input=lines.encode(), capture_output=True, env={"PATH": "/usr/bin:/bin"}, timeout=30)
    assert p.returncode == 0, p.stderr.decode()
    return [json.loads(l) for l in p.stdout.splitlines()]


def test_sqlite_driver(tmp_path, keyline, blob):
    db = str(tmp_path / "users.sqlite3")
    admin = ["/usr/bin/python3", SQLITE, db]
    subprocess.run(admin + ["add-key", "alice", keyline], check=True)
    subprocess.run(admin + ["grant", "alice", "team/app.git", "write"], check=True)
    subprocess.run(admin + ["grant", "alice", "/public/hello", "read"], check=True)
    out = talk([LAUNCHER, "--module", SQLITE, "--", db, "/srv/git"], HELLO,
               {"id": 1, "op": "authenticate", "login": "git", "key_type": "ssh-ed25519", "key": base64.b64encode(blob).decode()},
               {"id": 2, "op": "user_model", "user": "alice"},
               {"id": 3, "op": "authorize", "model": {"handle": 1}, "command": "git-receive-pack", "path": "/team/app"},
               {"id": 4, "op": "authorize", "model": {"handle": 1}, "command": "git-receive-pack", "path": "public/hello.git"},
               {"id": 5, "op": "authorize", "model": {"handle": 1}, "command": "git-upload-pack", "path": "public/hello.git"},
               {"id": 6, "op": "repopath", "path": "/team/app"},
               {"id": 7, "op": "user_model", "user": "nobody"},
               {"id": 8, "op": "repopath", "path": "../../etc"})
    assert out[1] == {"id": 1, "user": "alice"}
    assert [o["allow"] for o in out[3:6]] == [True, False, True]
    assert out[6] == {"id": 6, "path": "/srv/git/team/app.git"}
    assert out[7] == {"id": 7, "error": "unknown_user"}
    assert out[8]["error"] == "failed"


def test_deny_all_denies(tmp_path):
    out = talk([LAUNCHER, "--user-ids", "int", "--module", os.path.join(ROOT, "examples", "deny_all.py")], HELLO,
               {"id": 1, "op": "user_model", "user": "1"},
               {"id": 2, "op": "authorize", "model": {"handle": 1}, "command": "git-upload-pack", "path": "team/app.git"})
    assert out[1] == {"id": 1, "model": {"handle": 1}}
    assert out[2]["allow"] is False


def test_driver_prints_go_to_stderr(tmp_path):
    noisy = tmp_path / "noisy.py"
    noisy.write_text("print('debug output')\n" + open(os.path.join(ROOT, "examples", "deny_all.py")).read())
    p = subprocess.run([LAUNCHER, "--module", str(noisy)], input=(json.dumps(HELLO) + "\n").encode(), capture_output=True, timeout=30)
    assert p.stdout.splitlines() == [b'{"protocol":"gitserver-driver","version":1}']
    assert b"debug output" in p.stderr
