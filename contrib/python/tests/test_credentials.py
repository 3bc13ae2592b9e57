import pytest

from gitserver_driver import make_credentials


def test_seed_attributes(blob):
    c = make_credentials("git", "ssh-ed25519", blob)
    assert c.username == b"git" and c.algName == b"ssh-ed25519" and c.blob == blob
    assert c.sigData is None and c.signature is None
    c.username = 1  # drivers set it
    assert c.username == 1


def test_twisted_reads_the_blob(blob, keyline):
    """A driver that imports Twisted gets Twisted's own credentials."""
    keys = pytest.importorskip("twisted.conch.ssh.keys")
    from twisted.cred.credentials import ISSHPrivateKey

    c = make_credentials("git", "ssh-ed25519", blob)
    assert ISSHPrivateKey.providedBy(c)
    k = keys.Key.fromString(c.blob)
    assert k.blob() == blob
    assert k.toString("openssh").decode().split()[:2] == keyline.split()[:2]
