"""The object a driver's authenticate(credentials) receives."""

import sys


class SSHKeyCredentials:
    """The attributes of twisted.cred.credentials.SSHPrivateKey, for when
    Twisted is not installed. sshd (or gitserver's listener) has already
    checked the signature, so sigData and signature are None."""

    def __init__(self, username, algName, blob, sigData=None, signature=None):
        self.username = username
        self.algName = algName
        self.blob = blob
        self.sigData = sigData
        self.signature = signature

    def __repr__(self):
        return "SSHKeyCredentials(username=%r, algName=%r)" % (self.username, self.algName)


def make_credentials(login, key_type, blob):
    """Credentials as the seed passed them: username is the SSH login name,
    algName the key type (both bytes, as Twisted gives them), blob the
    public key in SSH wire format (twisted.conch.ssh.keys.Key.fromString
    reads it). When the driver has imported Twisted, this is a real
    twisted.cred.credentials.SSHPrivateKey, so ISSHPrivateKey.providedBy
    works; a driver that has not does not pay for importing it (about 40
    ms, at every authorized-keys run)."""
    username = login.encode("utf-8")
    alg = key_type.encode("ascii")
    if "twisted" in sys.modules:
        try:
            from twisted.cred.credentials import SSHPrivateKey
        except ImportError:
            pass
        else:
            return SSHPrivateKey(username, alg, blob, None, None)
    return SSHKeyCredentials(username, alg, blob)
