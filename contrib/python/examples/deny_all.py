"""The seed's example driver, in the seed's API: it recognises one key (the
running user's own ~/.ssh/id_ed25519.pub or id_rsa.pub) as user id 1, and
then authorizes nothing. It shows the shape of a driver; it grants no
access to anyone, ever.

    [drivers.exec]
    command = ["/usr/local/libexec/gitserver/gitserver-driver", "--user-ids", "int",
               "--module", "/usr/local/libexec/gitserver/examples/deny_all.py"]
"""

import base64
import os


class ExampleUser:
    def __init__(self, user_id):
        self.id = user_id
        self.username = "lucy"


def _own_key_blob():
    for name in ("id_ed25519.pub", "id_rsa.pub"):
        try:
            with open(os.path.expanduser("~/.ssh/" + name)) as f:
                return base64.b64decode(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return None


def authenticate(credentials):
    """Accept only the running user's own public key, as user id 1."""
    blob = _own_key_blob()
    if blob is None or blob != credentials.blob:
        return False
    credentials.username = 1
    return True


def get_user_model(user_id):
    return ExampleUser(user_id)


def authorize(model, command, path):
    """git-upload-pack is a read, git-receive-pack a write: neither is
    allowed here."""
    return False


def repopath(reponame):
    return "/nonexistent/repo.git"
