"""The ``python`` check: a function of yours, named by dotted path, judges the output.

The function is called as ``func(output, context)`` (``context``: ``vars``, ``latency_ms``,
``cost``) and may be async. It returns a bool (pass/fail), a number in 0..1 (a score that
passes at ``threshold``, default 0.5) or a mapping ``{pass, score, reason}`` as promptfoo's
Python assertions do. The module must be importable: installed, or on ``PYTHONPATH``.

A check function is code, and it runs with the rights of whoever runs the check: their files,
their private key. So reading a spec never runs it (the module is found on the path, never
imported, until the check runs); the standard library and the builtins are no check's module
(``builtins:eval`` would run a model's answer as Python); and a workflow's ``python`` checks run
only under :func:`python_checks_allowed`, which ``inhouse workflow test`` and ``inhouse prove``
open only for a runner who says ``--trust-python`` having read the code (its author included).
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import import_module
from importlib.machinery import ModuleSpec, PathFinder
from pkgutil import get_importer
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from inhouse.checks.base import Finding, QualityContext
from inhouse.checks.registry import Params, register_check_type
from inhouse.checks.spec import CheckSpec
from inhouse.errors import NotAllowed

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = [
    "function_path",
    "python_calls",
    "python_checks_allowed",
    "record_trusted",
    "refuse_untrusted",
    "resolve_function",
]

_DEFAULT_THRESHOLD = 0.5


#: whether a ``python`` check may import and call its function here (see the module's doc):
#: closed unless whoever runs the checks opened it, having said they read the code
_ALLOWED: ContextVar[bool] = ContextVar("inhouse_python_checks_allowed", default=False)


@contextmanager
def python_checks_allowed(allowed: bool) -> Iterator[None]:
    """Within the block, ``python`` checks run (``allowed``) or fail without running."""
    token = _ALLOWED.set(allowed)
    try:
        yield
    finally:
        _ALLOWED.reset(token)


def python_calls(checks: Iterable[CheckSpec]) -> list[str]:
    """The functions ``checks``' ``python`` checks call, each once, in order."""
    found = [str(getattr(c.params, "value", "")) for c in checks if c.base == "python"]
    return list(dict.fromkeys(found))


def refuse_untrusted(calls: list[str], where: str, command: str) -> None:
    """Refuse, naming each function, to run ``calls`` without the runner's ``--trust-python``."""
    if calls:
        raise NotAllowed(
            f"{where}: its checks call Python code that would run on this machine with your "
            f"rights, your private key included: {', '.join(calls)}. Read that code; then "
            f"`{command} --trust-python` runs it (where someone else wrote the spec, nothing "
            "your key signs after it counts as yours: exit rule 36, a key it never reached "
            "does)"
        )


#: the collector of ``code.trusted``: a key's own record that it is about to run such code
TRUSTED = "inhouse trust-python"


def record_trusted(
    program: Program, who: str | None, calls: list[str], where: str, command: str
) -> None:
    """Before ``calls`` (the ``python`` checks of the spec at ``where``, which someone other than
    ``who`` wrote) run here on the runner's ``--trust-python``, record with this key that they
    are about to (``code.trusted``, exit rule 36): the code runs in this process with the key
    at hand, and could sign anything with it, the run's own record included, or copy it out;
    what the key signs after counts as nobody's own. Without the log here it is refused (the
    same code could take the record out of this checkout's outbox), naming why and ``command``."""
    from inhouse.program.facts import Provenance

    if program.detached():
        raise NotAllowed(
            f"{where}: its checks call Python code that would run in your inhouse with your key "
            f"({', '.join(calls)}), and this checkout holds no log: the record that your key ran "
            "it, which keeps what that code could sign in your name from counting as yours, "
            "would sit in the outbox, where the same code could take it out. Run "
            f"`{command} --trust-python` where the program's log is (INHOUSE_DATABASE_URL for "
            "the team's database)"
        )
    name = who or program.whoami().name
    program.record_fact(
        who,
        "code.trusted",
        {"person": name, "spec": where, "calls": list(calls)},
        provenance=Provenance.MEASURED,
        collector=TRUSTED,
    )


def function_path(path: str) -> tuple[str, str]:
    """``path``'s module and attribute, without importing anything: a ValueError for a path
    that is not ``package.module:function``, names the standard library or the builtins, or
    whose module is nowhere on the path."""
    if ":" in path:
        module_name, _, attribute = path.partition(":")
    else:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise ValueError(
            f"{path!r} is not a dotted path to a function: write package.module:function"
        )
    top = module_name.split(".")[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        raise ValueError(
            f"{path!r} is in Python's standard library: a check function is code of yours (a "
            "module in the program's folder or a package you installed), never eval, exec or "
            "another function of the standard library"
        )
    if not _findable(module_name):
        raise ValueError(
            f"cannot import module {module_name!r} for {path!r}: it is not on the path (is it "
            "installed, or on PYTHONPATH?)"
        )
    return module_name, attribute


def _findable(module_name: str) -> bool:
    """Whether ``module_name`` would import, found level by level as the import system finds it
    (each finder on ``sys.meta_path`` in turn: editable installs' own included) but with no
    level imported, so no package's ``__init__`` runs. The import system looks for each level in
    its parent's ``__path__``, which only the parent's ``__init__`` sets; here a parent not
    imported yet is searched where its spec puts its submodules (see :func:`_package_locations`)."""
    if module_name in sys.modules:
        return sys.modules[module_name] is not None  # None: the import is blocked
    parts = module_name.split(".")
    search: list[str] | None = None  # where the next level is looked for; None: sys.path
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        below: Iterable[str] | None
        if name in sys.modules:  # imported already: its __path__ is what the import uses
            module = sys.modules[name]
            if module is None:
                return False
            below = getattr(module, "__path__", None)
        else:
            try:
                spec = _find_spec(name, search)
            except ImportError:
                return False
            if spec is None:
                return False
            below = _package_locations(spec, search)
        if below is None:
            return depth == len(parts)  # a module has no submodules
        search = list(below)
    return True


def _find_spec(name: str, search: list[str] | None) -> ModuleSpec | None:
    """The first answer of the finders on ``sys.meta_path`` for ``name`` below ``search``."""
    for finder in list(sys.meta_path):
        if finder is PathFinder:
            spec = _path_spec(name, sys.path if search is None else search)
        else:
            find = getattr(finder, "find_spec", None)
            if find is None:  # a finder of the protocol that Python 3.12 no longer asks
                continue
            try:
                spec = find(name, search, None)
            except Exception:  # another's finder: whatever it raises, it found nothing
                # a finder that hands a nested namespace package to PathFinder (setuptools'
                # editable finder, pytest's assertion rewriter) fails (KeyError) without its
                # parent imported (see _path_spec), which PathFinder's stand-in here finds
                # instead; any other fault of a third-party finder is its own, not the spec's
                continue
        if spec is not None:
            return spec
    return None


def _path_spec(name: str, entries: Iterable[str]) -> ModuleSpec | None:
    """PathFinder's answer for ``name`` in ``entries``: the first module or regular package, or
    else a namespace package of every portion. PathFinder itself cannot be asked below the top
    level: the path it gives a namespace package reads the parent package from sys.modules."""
    portions: list[str] = []
    for spec in _entry_specs(name, entries):
        if spec.loader is not None:
            return spec
        portions += spec.submodule_search_locations or []
    if not portions:
        return None
    namespace = ModuleSpec(name, None, is_package=True)
    namespace.submodule_search_locations = portions
    return namespace


def _entry_specs(name: str, entries: Iterable[str]) -> Iterator[ModuleSpec]:
    """What each of ``entries``' finders (made by ``sys.path_hooks``) finds for ``name``."""
    for entry in entries:
        if not isinstance(entry, str):
            continue
        if entry == "":  # the current folder, as PathFinder reads it
            try:
                entry = os.getcwd()
            except FileNotFoundError:
                continue
        finder = get_importer(entry)
        spec = finder.find_spec(name) if finder is not None else None
        if spec is not None:
            yield spec


def _package_locations(spec: ModuleSpec, search: list[str] | None) -> list[str] | None:
    """Where the package of ``spec`` (found, not imported) has its submodules; None when it is
    a module. A regular package's ``__init__`` may add to its ``__path__`` (``pkgutil``'s
    ``extend_path`` adds the folder of its name in every entry of its parent's path) and is
    never run here, so every such folder counts: a module found only in one is accepted, and
    fails when its check runs if the ``__init__`` did not add that folder after all."""
    own = spec.submodule_search_locations
    if own is None:
        return None
    found = list(own)
    if spec.loader is not None:
        for portion in _entry_specs(spec.name, sys.path if search is None else search):
            found += [p for p in portion.submodule_search_locations or [] if p not in found]
    return found


def resolve_function(path: str) -> Callable[..., Any]:
    """The callable at ``package.module:function`` or ``package.module.function`` (its module
    imported, so its code runs); a ValueError saying what could not be found otherwise."""
    module_name, attribute = function_path(path)
    try:
        module = import_module(module_name)
    except ImportError as err:
        raise ValueError(
            f"cannot import module {module_name!r} for {path!r}: {err} "
            "(is it installed, or on PYTHONPATH?)"
        ) from None
    except Exception as err:  # the user's module failed while importing
        raise ValueError(
            f"importing {module_name!r} for {path!r} failed: {type(err).__name__}: {err}"
        ) from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(f"module {module_name!r} has no {attribute!r} (looking for {path!r})")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{path!r} is a {type(target).__name__}, not a function")
    # a module's attribute may be the standard library's own (`pkg.mod:builtins.eval`, a
    # function it imported): what runs is judged, not the path that reached it
    home = str(getattr(target, "__module__", None) or "builtins").split(".")[0]
    if home in sys.stdlib_module_names or home in sys.builtin_module_names:
        raise ValueError(
            f"{path!r} is {home}'s {getattr(target, '__qualname__', attribute)}, in Python's "
            "standard library: a check function is code of yours, never eval, exec or another "
            "function of the standard library"
        )
    return target  # type: ignore[no-any-return]


class FunctionParams(Params):
    #: ``package.module:function`` (or ``package.module.function``)
    value: str
    #: the score a numeric answer needs to pass (default 0.5)
    threshold: float | None = Field(default=None, ge=0, le=1)

    @field_validator("value")
    @classmethod
    def _importable(cls, value: str) -> str:
        function_path(value)  # found, never imported: reading a spec runs no code
        return value


@register_check_type("python", params=FunctionParams, summary="a Python function judges it")
async def python(params: FunctionParams, output: str, ctx: QualityContext) -> Finding:
    if not _ALLOWED.get():
        return Finding.failure(
            f"{params.value} was not run: a Python check runs someone's code with your rights "
            "(run again with --trust-python once you have read it)"
        )
    try:
        func = resolve_function(params.value)
    except ValueError as err:
        return Finding.failure(str(err))
    context = {"vars": dict(ctx.vars), "latency_ms": ctx.latency_ms, "cost": ctx.cost}
    try:
        answer = func(output, context)
        if inspect.isawaitable(answer):
            answer = await answer
    except Exception as err:  # a user's function may raise anything; report it, do not crash
        return Finding.failure(f"{params.value} raised {type(err).__name__}: {err}")
    return _interpret(params, answer)


def _interpret(params: FunctionParams, answer: Any) -> Finding:
    name = params.value
    threshold = params.threshold if params.threshold is not None else _DEFAULT_THRESHOLD
    if isinstance(answer, bool):
        return Finding.of(answer, f"{name} returned {answer}")
    if isinstance(answer, int | float):
        return _scored(name, float(answer), None, threshold, None)
    if isinstance(answer, Mapping):
        passed = answer.get("pass", answer.get("passed"))
        score = answer.get("score")
        reason = answer.get("reason")
        if passed is not None and not isinstance(passed, bool):
            return Finding.failure(f"{name} returned pass={passed!r}; pass must be true or false")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
            return Finding.failure(f"{name} returned score={score!r}; score must be a number")
        if passed is None and score is None:
            return Finding.failure(f"{name} returned a mapping without pass or score: {answer!r}")
        return _scored(name, None if score is None else float(score), passed, threshold, reason)
    return Finding.failure(
        f"{name} returned {type(answer).__name__}; a check function returns a bool, a number "
        "in 0..1, or {pass, score, reason}"
    )


def _scored(
    name: str, score: float | None, passed: bool | None, threshold: float, reason: Any
) -> Finding:
    if score is not None and not 0 <= score <= 1:
        return Finding.failure(f"{name} returned score {score}; scores run from 0 to 1")
    if passed is None:
        assert score is not None
        passed = score >= threshold
    if score is None:
        score = 1.0 if passed else 0.0
    said = str(reason) if reason else f"{name} scored {score:.2f} (passes at {threshold:.2f})"
    return Finding(passed, score, said)
