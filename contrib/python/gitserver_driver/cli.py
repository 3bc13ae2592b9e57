"""gitserver-driver: serve the exec protocol for a seed-API driver.

    gitserver-driver [--user-ids str|int] (--module PATH|NAME | --entry-point NAME) [-- ARG...]

ARGs become the driver module's sys.argv[1:] (set before it is loaded).
The protocol uses the process's original stdout; anything the driver
prints goes to stderr, which gitserver keeps for its log.
"""

import argparse
import os
import sys

from .loader import DriverError, load_driver
from .protocol import serve


def main(argv=None):
    p = argparse.ArgumentParser(prog="gitserver-driver", description="Serve gitserver's exec-driver protocol for a seed-API Python driver.")
    p.add_argument("--module", help="driver module: an absolute .py path or a dotted module name")
    p.add_argument("--entry-point", help="driver name in the gitserver.driver entry-point group, as the seed's config named it")
    p.add_argument("--user-ids", choices=("str", "int"), default="str",
                   help="type get_user_model receives: str (default) or int, for drivers whose authenticate set an int id")
    p.add_argument("args", nargs="*", help="arguments for the driver (after --): its sys.argv[1:]")
    opts = p.parse_args(argv)
    # The protocol keeps the real stdout; the driver's prints go to stderr.
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.argv = [opts.module or opts.entry_point or "driver"] + opts.args
    try:
        driver = load_driver(module=opts.module, entry_point=opts.entry_point)
    except (DriverError, ImportError, OSError, SyntaxError) as e:
        print("gitserver-driver: %s" % e, file=sys.stderr)
        return 2
    return serve(driver, sys.stdin.buffer, proto_out, user_ids=opts.user_ids)


if __name__ == "__main__":
    sys.exit(main())
