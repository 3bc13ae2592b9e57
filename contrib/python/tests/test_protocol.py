import base64
import io
import json
import types

import pytest

from conftest import fake_blob
from gitserver_driver import MAX_LINE, PROTOCOL, VERSION, Adapter, serve

HELLO = {"protocol": PROTOCOL, "versions": [VERSION]}


def seed_driver(**over):
    """A seed-API driver: key 1 is user id 7 (an int, as the seed's example
    did), who may read anything and write nothing."""
    seen = {}

    def authenticate(credentials):
        seen["credentials"] = credentials
        if credentials.blob != fake_blob(1):
            return False
        credentials.username = 7
        return True

    def get_user_model(user_id):
        seen["user_id"] = user_id
        return None if user_id in ("8", 8) else {"id": user_id, "obj": object()}

    def authorize(model, command, path):
        seen["authorize"] = (model, command, path)
        return command == "git-upload-pack"

    def repopath(reponame):
        seen["repopath"] = reponame
        return "/srv/git/" + reponame.strip("/")

    d = types.SimpleNamespace(__name__="seed", authenticate=authenticate, get_user_model=get_user_model,
                              authorize=authorize, repopath=repopath, seen=seen)
    for k, v in over.items():
        setattr(d, k, v)
    return d


def run(driver, *msgs, user_ids="str", raw=None):
    lines = raw if raw is not None else b"".join(json.dumps(m).encode() + b"\n" for m in msgs)
    out = io.BytesIO()
    code = serve(driver, io.BytesIO(lines), out, user_ids=user_ids)
    return code, [json.loads(l) for l in out.getvalue().splitlines()]


def auth(blob, id=1):
    return {"id": id, "op": "authenticate", "login": "git", "key_type": "ssh-ed25519",
            "key": base64.b64encode(blob).decode(), "fingerprint": "SHA256:x"}


def test_handshake_and_four_operations():
    d = seed_driver()
    code, out = run(d, HELLO, auth(fake_blob(1)),
                    {"id": 2, "op": "user_model", "user": "7"},
                    {"id": 3, "op": "authorize", "model": {"handle": 1}, "command": "git-upload-pack", "path": "/team/app"},
                    {"id": 4, "op": "authorize", "model": {"handle": 1}, "command": "git-receive-pack", "path": "team/app.git"},
                    {"id": 5, "op": "repopath", "path": "team/app.git"})
    assert code == 0
    assert out[0] == {"protocol": PROTOCOL, "version": VERSION}
    assert out[1] == {"id": 1, "user": "7"}
    assert out[2] == {"id": 2, "model": {"handle": 1}}
    assert out[3]["allow"] is True and out[3]["id"] == 3
    assert out[4]["allow"] is False
    assert out[5] == {"id": 5, "path": "/srv/git/team/app.git"}
    # The driver saw the seed's objects: bytes credentials, its own model,
    # the path exactly as the client sent it.
    c = d.seen["credentials"]
    assert c.username == 7 and c.algName == b"ssh-ed25519" and c.blob == fake_blob(1)
    model, command, path = d.seen["authorize"]
    assert model["id"] == "7" and command == "git-receive-pack" and path == "team/app.git"


def test_unknown_key_and_user():
    code, out = run(seed_driver(), HELLO, auth(fake_blob(2)), {"id": 2, "op": "user_model", "user": "8"})
    assert out[1] == {"id": 1, "error": "unknown_key"}
    assert out[2] == {"id": 2, "error": "unknown_user"}


def test_int_user_ids():
    d = seed_driver()
    run(d, HELLO, {"id": 1, "op": "user_model", "user": "7"}, user_ids="int")
    assert d.seen["user_id"] == 7


def test_driver_errors_deny():
    def boom(*a):
        raise RuntimeError("database is down")

    for op in [auth(fake_blob(1)), {"id": 1, "op": "repopath", "path": "x"}]:
        code, out = run(seed_driver(authenticate=boom, repopath=boom), HELLO, op)
        assert out[1]["error"] == "failed" and "database is down" in out[1]["message"]
    # A handle this process did not give out, and an unknown op.
    code, out = run(seed_driver(), HELLO, {"id": 1, "op": "authorize", "model": {"handle": 9}, "command": "git-upload-pack", "path": "x"},
                    {"id": 2, "op": "delete_everything"})
    assert out[1]["error"] == "failed" and out[2]["error"] == "failed"


def test_username_left_unset_fails():
    code, out = run(seed_driver(authenticate=lambda c: True), HELLO, auth(fake_blob(1)))
    assert out[1]["error"] == "failed"


@pytest.mark.parametrize("raw", [
    b'{"protocol": "other", "versions": [1]}\n',
    b'{"protocol": "gitserver-driver", "versions": [2]}\n',
    b"not json\n",
    b'{"protocol": "gitserver-driver", "versions": [1]}\n' + b"x" * (MAX_LINE + 10) + b"\n",
])
def test_protocol_errors_exit_2(raw):
    code, _ = run(seed_driver(), raw=raw)
    assert code == 2


def test_end_of_input_exits_0():
    assert run(seed_driver(), raw=b"")[0] == 0


def test_fired_deferred():
    defer = pytest.importorskip("twisted.internet.defer")
    d = seed_driver(authorize=lambda m, c, p: defer.succeed(True), repopath=lambda r: defer.Deferred())
    a = Adapter(d)
    a.models[1] = object()
    assert a.handle({"op": "authorize", "model": {"handle": 1}, "command": "git-upload-pack", "path": "x"})["allow"] is True
    assert a.handle({"op": "repopath", "path": "x"})["error"] == "failed"
