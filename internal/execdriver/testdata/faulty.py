#!/usr/bin/python3 -IB
"""A driver that speaks the protocol, then misbehaves as argv[1] says.
With argv[2], it first appends a line to that file: its pid and its
environment, as JSON."""
import json
import os
import sys
import time

mode = sys.argv[1]
if len(sys.argv) > 2:
    with open(sys.argv[2], "a") as f:
        f.write(json.dumps({"pid": os.getpid(), "env": dict(os.environ), "cwd": os.getcwd()}) + "\n")


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


hello = json.loads(sys.stdin.readline())
if mode == "badversion":
    send({"protocol": "gitserver-driver", "version": 99})
elif mode == "nohello":
    sys.exit(0)
else:
    send({"protocol": "gitserver-driver", "version": 1})

ANSWERS = {
    "authenticate": {"user": "alice"},
    "user_model": {"model": {"user": "alice", "groups": ["a"]}},
    "authorize": {"allow": True, "rule": "faulty allows all"},
    "repopath": {"path": "/etc"},
}

for line in sys.stdin:
    req = json.loads(line)
    if mode == "hang":
        time.sleep(3600)
    elif mode == "garbage":
        sys.stdout.write("Traceback (most recent call last): not JSON\n")
        sys.stdout.flush()
    elif mode == "crash":
        sys.stderr.write("faulty: the database is on fire\n")
        sys.exit(3)
    elif mode == "oversize":
        sys.stdout.write('{"id": %d, "user": "%s"}\n' % (req["id"], "a" * (2 << 20)))
        sys.stdout.flush()
    elif mode == "wrongid":
        send(dict(ANSWERS[req["op"]], id=req["id"] + 1))
    elif mode == "echo":
        send({"id": req["id"], "error": "failed", "message": json.dumps(req)})
    else:  # outside, good, slowexit
        send(dict(ANSWERS[req["op"]], id=req["id"]))

if mode == "slowexit":
    time.sleep(3600)
