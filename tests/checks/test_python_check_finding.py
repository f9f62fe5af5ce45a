"""A ``python`` check's module is found, when its spec is read, wherever the import system would
find it (an editable install, a namespace package split across folders, a ``pkgutil``-style
package), and none of its code runs until the check does."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator, Sequence
from importlib.abc import MetaPathFinder, PathEntryFinder
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import spec_from_file_location
from pathlib import Path
from types import ModuleType

import pytest

from inhouse.checks import evaluate, parse_checks
from inhouse.checks.function import python_checks_allowed
from inhouse.errors import InvalidInput

#: the top-level names this file's packages use, forgotten after each test
_TOPS = ("edited", "outer", "corp", "winreg")

_YES = "def yes(output, context):\n    return True\n"
_EXTEND = "from pkgutil import extend_path\n__path__ = extend_path(__path__, __name__)\n"


@pytest.fixture(autouse=True)
def _forget_imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # the finders made for this test's folders go with it (sys.path itself: syspath_prepend)
    monkeypatch.setattr(sys, "path_importer_cache", dict(sys.path_importer_cache))
    yield
    for name in [n for n in sys.modules if n.split(".")[0] in _TOPS]:
        del sys.modules[name]


def _module(path: Path, marker: Path, body: str = "") -> None:
    """A module (or ``__init__``) that writes its name to ``marker`` when it runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"import pathlib\n_ran = pathlib.Path({str(marker)!r})\n"
        "_ran.write_text((_ran.read_text() if _ran.exists() else '') + __name__ + ' ')\n" + body
    )


def _loads_unrun_then_runs(path: str, marker: Path) -> list[str]:
    """Read a spec naming ``path`` (nothing may run), then run it: the modules that ran."""
    checks = parse_checks([{"type": "python", "value": path}], where="t.yaml: checks")
    assert not marker.exists(), f"reading the spec ran {marker.read_text()}"
    with python_checks_allowed(True):
        case = asyncio.run(evaluate(checks, "x", None))
    assert case.passed, case.summary()  # the module imports for real: the layout is honest
    return marker.read_text().split()


class _EditableFinder(MetaPathFinder):
    """What ``pip install -e`` of a setuptools project puts on ``sys.meta_path`` (setuptools'
    ``__editable__`` finder, as its ``_FINDER_TEMPLATE`` writes it): the project's top-level
    packages by name, their children through PathFinder, deeper levels left to the import system
    and the parent's path; namespace packages through a placeholder entry on ``sys.path``."""

    def __init__(self, mapping: dict[str, str], namespaces: dict[str, list[str]]) -> None:
        self.mapping = mapping
        self.namespaces = namespaces
        self.placeholder = "__editable__.edited-1.0.finder.__path_hook__"

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname in self.mapping:
            root = Path(self.mapping[fullname])
            for candidate in (root / "__init__.py", root.with_suffix(".py")):
                if candidate.exists():
                    return spec_from_file_location(fullname, candidate)
            return None
        parent = fullname.rpartition(".")[0]
        if parent in self.mapping:
            return PathFinder.find_spec(fullname, [self.mapping[parent]])
        return None

    def path_hook(self, entry: str) -> PathEntryFinder:
        if entry != self.placeholder:
            raise ImportError(entry)
        return _EditableNamespaces(self)


class _EditableNamespaces(PathEntryFinder):
    """The path-entry finder of setuptools' placeholder: the project's namespace packages."""

    def __init__(self, editable: _EditableFinder) -> None:
        self.editable = editable

    def find_spec(self, fullname: str, target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname not in self.editable.namespaces:
            return None
        spec = ModuleSpec(fullname, None, is_package=True)
        spec.submodule_search_locations = [
            *self.editable.namespaces[fullname],
            self.editable.placeholder,
        ]
        return spec


@pytest.fixture
def install_editable(monkeypatch: pytest.MonkeyPatch) -> Callable[[_EditableFinder], None]:
    """Install a project's editable finder as setuptools' ``install()`` does; gone after."""

    def install(finder: _EditableFinder) -> None:
        monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, finder])
        monkeypatch.setattr(sys, "path_hooks", [*sys.path_hooks, finder.path_hook])
        monkeypatch.setattr(sys, "path", [*sys.path, finder.placeholder])

    return install


def test_a_module_of_an_editable_install_is_found_without_running_it(
    tmp_path: Path, install_editable: Callable[[_EditableFinder], None]
) -> None:
    """``pip install -e`` of a project whose package lives in a namespace (``edited.pkg``, in a
    src folder that is not on the path): the package is found by the editable finder alone."""
    marker = tmp_path / "ran"
    package = tmp_path / "project" / "src" / "edited" / "pkg"
    _module(package / "__init__.py", marker)
    _module(package / "judge.py", marker, _YES)
    install_editable(_EditableFinder({"edited.pkg": str(package)}, {"edited": []}))

    ran = _loads_unrun_then_runs("edited.pkg.judge:yes", marker)
    assert ran == ["edited.pkg", "edited.pkg.judge"]


def test_a_module_in_the_second_folder_of_a_split_namespace_package_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``outer.inner`` is a namespace package in two folders on the path; the check's module is
    in the second, below the top level."""
    marker = tmp_path / "ran"
    first, second = tmp_path / "first", tmp_path / "second"
    _module(first / "outer" / "inner" / "other.py", marker)
    _module(second / "outer" / "inner" / "judge.py", marker, _YES)
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))

    assert _loads_unrun_then_runs("outer.inner.judge:yes", marker) == ["outer.inner.judge"]


def test_a_module_in_another_portion_of_an_extend_path_package_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``corp`` and ``corp.tools`` are split across two folders the pkgutil way (each portion's
    ``__init__`` calls ``extend_path``); the check's module is only in the second folder, which
    the packages' ``__path__`` holds only once their ``__init__`` (never run to read a spec)
    ran."""
    marker = tmp_path / "ran"
    first, second = tmp_path / "first", tmp_path / "second"
    for portion in (first, second):
        _module(portion / "corp" / "__init__.py", marker, _EXTEND)
        _module(portion / "corp" / "tools" / "__init__.py", marker, _EXTEND)
    _module(second / "corp" / "tools" / "judge.py", marker, _YES)
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))

    ran = _loads_unrun_then_runs("corp.tools.judge:yes", marker)
    assert ran == ["corp", "corp.tools", "corp.tools.judge"]  # the first folder's __init__s


def test_a_module_found_by_an_editable_finder_is_judged_by_the_same_rules(
    tmp_path: Path, install_editable: Callable[[_EditableFinder], None]
) -> None:
    """The forgeries through an editable install: a standard-library name the finder serves
    (``winreg``, which Linux's standard library lacks) is refused when the spec loads, and the
    standard library's eval re-exported by an editable module is refused when the check runs,
    the answer unrun."""
    marker = tmp_path / "ran"
    package = tmp_path / "project" / "src" / "edited" / "pkg"
    _module(package / "__init__.py", marker)
    _module(package / "judge.py", marker, "from builtins import eval as judge\n")
    _module(tmp_path / "project" / "winreg.py", marker, _YES)
    mapping = {"edited.pkg": str(package), "winreg": str(tmp_path / "project" / "winreg")}
    install_editable(_EditableFinder(mapping, {"edited": []}))

    checks = parse_checks(
        [{"type": "python", "value": "edited.pkg.judge:judge"}], where="t.yaml: checks"
    )
    assert not marker.exists()
    answer = f"__import__('pathlib').Path({str(tmp_path / 'evaluated')!r}).write_text('ran')"
    with python_checks_allowed(True):
        case = asyncio.run(evaluate(checks, answer, None))
    assert not case.passed and "standard library" in case.results[0].reason
    assert not (tmp_path / "evaluated").exists()

    with pytest.raises(InvalidInput, match="is in Python's standard library"):
        parse_checks([{"type": "python", "value": "winreg:yes"}], where="t.yaml: checks")


def test_a_finder_that_fails_is_passed_over_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A third-party finder on ``sys.meta_path`` that raises on a name it does not know (a
    bug of its own) neither hides a module the path holds nor turns the spec's load into a
    traceback: the module is found where it is, and a module found nowhere is refused as such."""

    class Broken(MetaPathFinder):
        def find_spec(self, *_: object) -> None:
            raise AttributeError("'NoneType' object has no attribute 'origin'")

    marker = tmp_path / "ran"
    _module(tmp_path / "found_here.py", marker, _YES)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", [Broken(), *sys.meta_path])
    parse_checks([{"type": "python", "value": "found_here:yes"}], where="t.yaml: checks")
    assert not marker.exists()
    with pytest.raises(InvalidInput, match=r"cannot import module .nowhere_at_all."):
        parse_checks([{"type": "python", "value": "nowhere_at_all:yes"}], where="t.yaml: checks")
