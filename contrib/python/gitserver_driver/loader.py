"""Find the driver module: by file path, by module name, or, as the seed
did, by name in the "gitserver.driver" entry-point group."""

import importlib
import importlib.util
import os

ENTRY_POINT_GROUP = "gitserver.driver"
FUNCTIONS = ("authenticate", "get_user_model", "authorize", "repopath")


class DriverError(Exception):
    """The driver cannot be loaded or lacks one of the four functions."""


def load_driver(module=None, entry_point=None):
    """Return the driver module (or object) named by exactly one of module
    (a .py file path or a dotted module name) and entry_point (a name in the
    gitserver.driver group)."""
    if (module is None) == (entry_point is None):
        raise DriverError("name the driver with exactly one of --module and --entry-point")
    if entry_point is not None:
        driver = _from_entry_point(entry_point)
    elif module.endswith(".py") or os.sep in module:
        driver = _from_file(module)
    else:
        driver = importlib.import_module(module)
    missing = [f for f in FUNCTIONS if not callable(getattr(driver, f, None))]
    if missing:
        raise DriverError("driver %r lacks %s" % (getattr(driver, "__name__", driver), ", ".join(missing)))
    return driver


def _from_entry_point(name):
    from importlib.metadata import entry_points  # slow to import: only when used
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        known = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
        raise DriverError("no %r in entry-point group %s (found: %s)" % (name, ENTRY_POINT_GROUP, ", ".join(known) or "none"))
    return found[0].load()


def _from_file(path):
    if not os.path.isabs(path):
        raise DriverError("driver file %s: give an absolute path" % path)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise DriverError("cannot load driver file %s" % path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
