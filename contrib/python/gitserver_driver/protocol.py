"""The exec-driver protocol, driver side: JSON lines on stdin and stdout,
one response per request (contrib/drivers/PROTOCOL.md)."""

import base64
import json
import sys
import traceback

from .credentials import make_credentials

PROTOCOL = "gitserver-driver"
VERSION = 1
MAX_LINE = 1 << 20  # gitserver refuses longer lines; so do we


class ProtocolError(Exception):
    """gitserver sent something this adapter does not understand."""


class Failed(Exception):
    """The driver's answer cannot be sent: gitserver denies."""


def _resolve(value):
    """The value itself, or the result of an already-fired Twisted Deferred
    (seed drivers may return one). A pending Deferred cannot be waited for
    here and is a failure."""
    if not hasattr(value, "addBoth"):
        return value
    results = []
    value.addBoth(results.append)
    if not results:
        raise Failed("driver returned a Deferred that has not fired; return a value or a fired Deferred")
    result = results[0]
    if hasattr(result, "raiseException"):  # twisted.python.failure.Failure
        result.raiseException()
    return result


def _user_string(uid):
    """gitserver's user name for the id the driver set: a str, an int or
    bytes, as text."""
    if isinstance(uid, bool) or uid is None:
        raise Failed("credentials.username is %r; set it to the user's id (str or int)" % (uid,))
    if isinstance(uid, int):
        return str(uid)
    if isinstance(uid, bytes):
        return uid.decode("utf-8")
    if isinstance(uid, str):
        return uid
    raise Failed("credentials.username is a %s; set it to the user's id (str or int)" % type(uid).__name__)


class Adapter:
    """Answers requests with a seed-API driver. User models stay here:
    gitserver gets an opaque handle, and authorize gets the object back."""

    def __init__(self, driver, user_ids="str"):
        if user_ids not in ("str", "int"):
            raise ValueError("user_ids must be 'str' or 'int'")
        self.driver = driver
        self.user_ids = user_ids
        self.models = {}

    def handle(self, req):
        """The response (a dict) to one request (a dict)."""
        op = req.get("op")
        fn = {
            "authenticate": self._authenticate,
            "user_model": self._user_model,
            "authorize": self._authorize,
            "repopath": self._repopath,
        }.get(op)
        if fn is None:
            return {"error": "failed", "message": "unknown op %r" % (op,)}
        try:
            return fn(req)
        except Exception as e:  # the driver's bug or refusal: deny, say why
            traceback.print_exc(file=sys.stderr)
            return {"error": "failed", "message": "%s: %s" % (type(e).__name__, e)}

    def _authenticate(self, req):
        blob = base64.b64decode(req["key"], validate=True)
        creds = make_credentials(req.get("login", ""), req.get("key_type", ""), blob)
        login = creds.username
        if not _resolve(self.driver.authenticate(creds)):
            return {"error": "unknown_key"}
        if creds.username == login:
            raise Failed("authenticate returned True but left credentials.username as the login name")
        return {"user": _user_string(creds.username)}

    def _user_id(self, user):
        if self.user_ids == "int":
            return int(user)
        return user

    def _user_model(self, req):
        model = _resolve(self.driver.get_user_model(self._user_id(req["user"])))
        if model is None:
            return {"error": "unknown_user"}
        handle = len(self.models) + 1
        self.models[handle] = model
        return {"model": {"handle": handle}}

    def _authorize(self, req):
        m = req.get("model")
        if not isinstance(m, dict) or m.get("handle") not in self.models:
            raise Failed("authorize: model %r is not a handle this process gave out" % (m,))
        allow = _resolve(self.driver.authorize(self.models[m["handle"]], req["command"], req["path"]))
        return {"allow": bool(allow), "rule": "%s.authorize" % getattr(self.driver, "__name__", "driver")}

    def _repopath(self, req):
        path = _resolve(self.driver.repopath(req["path"]))
        if isinstance(path, bytes):
            path = path.decode("utf-8")
        if path is None:
            raise Failed("repopath returned None")
        return {"path": str(path)}


def _read(stream):
    line = stream.readline(MAX_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_LINE or not line.endswith(b"\n"):
        raise ProtocolError("a line longer than %d bytes, or without a newline" % MAX_LINE)
    try:
        msg = json.loads(line)
    except ValueError as e:
        raise ProtocolError("not JSON: %s" % e)
    if not isinstance(msg, dict):
        raise ProtocolError("not a JSON object")
    return msg


def _write(stream, msg):
    data = json.dumps(msg, separators=(",", ":")).encode("utf-8") + b"\n"
    if len(data) > MAX_LINE:
        data = json.dumps({"id": msg.get("id"), "error": "failed", "message": "answer longer than %d bytes" % MAX_LINE}).encode() + b"\n"
    stream.write(data)
    stream.flush()


def serve(driver, stdin, stdout, user_ids="str"):
    """Shake hands, then answer requests until stdin closes. Returns the
    exit status: 0 at end of input, 2 on a protocol error."""
    adapter = Adapter(driver, user_ids)
    try:
        hello = _read(stdin)
        if hello is None:
            return 0
        if hello.get("protocol") != PROTOCOL or VERSION not in hello.get("versions", []):
            raise ProtocolError("gitserver offers %r; this adapter speaks %s version %d" % (hello, PROTOCOL, VERSION))
        _write(stdout, {"protocol": PROTOCOL, "version": VERSION})
        while True:
            req = _read(stdin)
            if req is None:
                return 0
            resp = adapter.handle(req)
            resp["id"] = req.get("id")
            _write(stdout, resp)
    except ProtocolError as e:
        print("gitserver_driver: protocol error: %s" % e, file=sys.stderr)
        return 2
