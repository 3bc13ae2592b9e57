import base64
import os
import struct
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)


def _string(b):
    return struct.pack(">I", len(b)) + b


@pytest.fixture
def keyline(tmp_path):
    """A fresh ed25519 public key line (test key only)."""
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-only", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


@pytest.fixture
def blob(keyline):
    return base64.b64decode(keyline.split()[1])


def fake_blob(n=1):
    """A syntactically valid ed25519 public key blob (never a real key)."""
    return _string(b"ssh-ed25519") + _string(bytes([n]) * 32)
