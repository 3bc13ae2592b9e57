"""Serve gitserver's exec-driver protocol for a driver written against the
seed's Python API (gitserver 0.0.5): a module with four functions,

    authenticate(credentials) -> bool   (sets credentials.username)
    get_user_model(user_id)   -> any object, or None for an unknown user
    authorize(model, command, path) -> bool
    repopath(reponame)        -> absolute path of the repository

The module runs unchanged. See contrib/drivers/PROTOCOL.md for the wire
protocol and README.md next to this package for the command line.
"""

from .credentials import make_credentials
from .loader import load_driver
from .protocol import MAX_LINE, PROTOCOL, VERSION, Adapter, serve

__all__ = ["Adapter", "MAX_LINE", "PROTOCOL", "VERSION", "load_driver", "make_credentials", "serve"]
__version__ = "1.0.0"
