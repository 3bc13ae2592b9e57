import os
import sys

import pytest

from gitserver_driver.loader import DriverError, load_driver

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def test_module_path():
    d = load_driver(module=os.path.join(EXAMPLES, "deny_all.py"))
    assert d.authorize(None, "git-upload-pack", "x") is False


def test_relative_path_refused():
    with pytest.raises(DriverError):
        load_driver(module="examples/deny_all.py")


def test_missing_functions(tmp_path):
    p = tmp_path / "half.py"
    p.write_text("def authenticate(c):\n    return False\n")
    with pytest.raises(DriverError, match="get_user_model, authorize, repopath"):
        load_driver(module=str(p))


def test_entry_point(tmp_path, monkeypatch):
    """As the seed did: a package declares its driver in the gitserver.driver
    group, and the config names it."""
    (tmp_path / "mydriver.py").write_text(open(os.path.join(EXAMPLES, "deny_all.py")).read())
    info = tmp_path / "mydriver-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mydriver\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[gitserver.driver]\nexample = mydriver\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    d = load_driver(entry_point="example")
    assert d.__name__ == "mydriver"
    with pytest.raises(DriverError, match="found: .*example"):
        load_driver(entry_point="nothere")
    sys.modules.pop("mydriver", None)


def test_exactly_one_source():
    with pytest.raises(DriverError):
        load_driver()
    with pytest.raises(DriverError):
        load_driver(module="x", entry_point="y")
