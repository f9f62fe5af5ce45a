"""The plugin manager: built-ins first, then every installed plugin, through one set of hooks.

One :class:`pluggy.PluginManager` holds the hooks of :mod:`inhouse.hookspecs`. The built-in
plugins (:data:`DEFAULT_PLUGINS`, one module per area, like llm's ``default_plugins``) are
registered first; then every module named in the ``inhouse`` entry-point group
(``pm.load_setuptools_entrypoints("inhouse")``); then, wrapped as plugins of the same hooks, the
entry points of the older per-area groups (:data:`OLDER_GROUPS`), which installed packages may
still use.

Registries read the hooks through :func:`contributions`, which calls each implementation on its
own so that whatever it adds names where it came from, and keep :class:`Registry`'s one rule for
duplicates: a name is registered once; a second registration is refused with a
:class:`~inhouse.errors.PluginError` naming both sources. Plugins are discovered once per
process, and again whenever ``sys.path`` changes (a test, a program that puts a plugin folder on
the path); :func:`generation` tells a registry when to rebuild.
"""

from __future__ import annotations

import site
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import pluggy

from inhouse import hookspecs
from inhouse.errors import InhouseError, PluginError
from inhouse.hookspecs import hookimpl
from inhouse.location import CONFIG_NAME, checkout_of, inside_program, optional_program

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint, EntryPoints

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "OLDER_GROUPS",
    "Contribution",
    "Declarations",
    "Registry",
    "contributed",
    "contributions",
    "generation",
    "load_collectors",
    "plugin_manager",
    "target_program",
]

ENTRY_POINT_GROUP = hookspecs.PROJECT

#: the built-in plugins, registered before any installed one (so built-ins come first)
DEFAULT_PLUGINS: tuple[str, ...] = (
    "inhouse.default_plugins.runtimes",
    "inhouse.default_plugins.detectors",
    "inhouse.default_plugins.check_types",
    "inhouse.default_plugins.play_checks",
    "inhouse.default_plugins.collectors",
    "inhouse.default_plugins.commands",
)

T = TypeVar("T")
Which = Literal["all", "builtin", "installed"]


# -- the one rule for duplicates ------------------------------------------------------------------


class Registry(Mapping[str, T], Generic[T]):
    """Named things of one kind (``kind``: "data detector", "play check"…), in registration
    order, each with the source that registered it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._sources: dict[str, str] = {}

    def add(self, name: str, item: T, *, source: str) -> None:
        """Register ``item`` as ``name``; a name already registered is refused, naming both."""
        if name in self._items:
            raise PluginError(
                f"{self.kind} {name!r} is registered twice: by {self._sources[name]} and by "
                f"{source}"
            )
        self._items[name] = item
        self._sources[name] = source

    def source(self, name: str) -> str:
        return self._sources[name]

    def copy(self) -> Registry[T]:
        twin: Registry[T] = Registry(self.kind)
        twin._items, twin._sources = dict(self._items), dict(self._sources)
        return twin

    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


# -- the plugin manager --------------------------------------------------------------------------


class _OlderRuntime:
    """An entry point in ``inhouse.runtimes``: ``family = "module:Factory"``."""

    def __init__(self, point: EntryPoint) -> None:
        self.point = point

    @hookimpl
    def inhouse_runtimes(self) -> dict[str, str]:
        return {self.point.name: self.point.value}


class _OlderDetectors:
    """An entry point in ``inhouse.detectors``: a :class:`Detector` or a sequence of them."""

    def __init__(self, point: EntryPoint) -> None:
        self.point = point

    @hookimpl
    def inhouse_detectors(self) -> Iterable[object]:
        loaded = self.point.load()
        return loaded if isinstance(loaded, list | tuple) else (loaded,)


class _OlderCheckTypes:
    """An entry point in ``inhouse.checks``: a module that declares check types."""

    def __init__(self, point: EntryPoint) -> None:
        self.point = point

    @hookimpl
    def inhouse_check_types(self) -> list[str]:
        return [self.point.module]


#: the per-area entry-point groups of earlier versions, still read: group → its plugin wrapper
OLDER_GROUPS: dict[str, Callable[[EntryPoint], object]] = {
    "inhouse.runtimes": _OlderRuntime,
    "inhouse.detectors": _OlderDetectors,
    "inhouse.checks": _OlderCheckTypes,
}


class _State:
    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.lock = threading.RLock()
        self.defaults = False  # the built-ins are registered
        self.path: tuple[Any, ...] | None = None  # sys.path when installed plugins were read
        self.loading = False
        self.generation = 0
        self.installed: list[str] = []  # names of the installed plugins registered now
        self.sources: dict[str, str] = {}  # plugin name → how a person reads where it is from
        self.target: Path | None = None  # the program folder the command names (--program)


_state = _State()


def _register_defaults() -> None:
    with _state.lock:
        if _state.defaults:
            return
        for name in DEFAULT_PLUGINS:
            _state.pm.register(import_module(name), name=name)
            _state.sources[name] = f"built-in plugin {name}"
        _state.defaults = True


def _read_installed() -> None:
    """(Re)register every installed plugin: the ``inhouse`` group, then the older groups."""
    from importlib.metadata import entry_points

    pm = _state.pm
    for name in _state.installed:
        pm.unregister(name=name)
        del _state.sources[name]
    _state.installed = []
    points = entry_points()  # one pass over the installed distributions, every group
    _refuse_checkout_plugins(points.select)
    try:
        if points.select(group=ENTRY_POINT_GROUP):  # pluggy's own pass, only when it has work
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    except PluginError:
        raise
    except Exception as err:  # a plugin that cannot be imported, or a malformed hookimpl
        raise PluginError(
            f"a plugin in the {ENTRY_POINT_GROUP!r} entry-point group failed to load: "
            f"{type(err).__name__}: {err}"
        ) from err
    finally:  # those that did load are taken off again on the next read
        for plugin, dist in pm.list_plugin_distinfo():
            registered = pm.get_name(plugin)
            if registered is not None and registered not in _state.sources:
                _state.installed.append(registered)
                _state.sources[registered] = (
                    f"plugin {registered!r} from {dist.project_name} {dist.version}"
                )
    for group, wrap in OLDER_GROUPS.items():
        for point in points.select(group=group):
            wrapped = f"{group}:{point.name}"
            if pm.has_plugin(wrapped):
                continue  # the same distribution twice on sys.path
            pm.register(wrap(point), name=wrapped)
            _state.installed.append(wrapped)
            origin = f" from {point.dist.name} {point.dist.version}" if point.dist else ""
            _state.sources[wrapped] = (
                f"entry point {point.name} = {point.value} in {group!r}{origin}"
            )
    try:
        pm.check_pending()  # a hook a plugin spells wrong
    except pluggy.PluginValidationError as err:
        name = pm.get_name(err.plugin) or repr(err.plugin)
        raise PluginError(f"{_state.sources.get(name, name)} is broken: {err}") from err


def _refuse_checkout_plugins(select: Callable[..., EntryPoints]) -> None:
    """Refuse a plugin whose distribution lies in an inhouse program folder (outside this
    Python's own site-packages): a checkout on ``sys.path`` (``PYTHONPATH=.``, as a ``python``
    check's module needs) would otherwise have a ``*.dist-info`` its author committed imported
    by every command, inside the inhouse of whoever runs it, their signing key at hand, with no
    word of theirs."""
    own = {Path(p).resolve() for p in (*site.getsitepackages(), site.getusersitepackages())}
    in_use = _checkouts_in_use()
    for group in (ENTRY_POINT_GROUP, *OLDER_GROUPS):
        for point in select(group=group):
            if point.dist is None:
                continue
            where = Path(str(point.dist.locate_file(""))).resolve()
            if where in own:
                continue
            holding = [(top, folder) for top, folder in in_use if where.is_relative_to(top)]
            if (folder := inside_program(where)) is not None:
                inside = f"inside the program folder {folder}"
            elif holding:
                top, folder = holding[0]
                inside = f"inside the checkout {top} that holds the program folder {folder}"
            else:
                continue
            raise PluginError(
                f"entry point {point.name} = {point.value} in {group!r} (from "
                f"{point.dist.name} {point.dist.version}) lies in {where}, {inside}: a "
                "checkout's plugin is not read, since whoever can push to "
                "the checkout wrote it and it would run inside your inhouse, with your key. "
                f"Take {where} off PYTHONPATH, or install the plugin into your own environment "
                "once you have read it"
            )


def _checkouts_in_use() -> list[tuple[Path, Path]]:
    """The git checkouts holding the program folders this process may act on, each with its
    folder (:func:`~inhouse.location.checkout_of`): the one the command names
    (:func:`target_program`: ``--program``), and the one of ``INHOUSE_PROGRAM``, else of the
    folder it was started in or one above. A ``python`` check's module at a repository's top
    puts all of it on PYTHONPATH: a ``*.dist-info`` committed there is as much the pushers' as
    one in the program folder."""
    found = []
    if _state.target is not None:
        found.append((checkout_of(_state.target), _state.target))
    try:
        folder = optional_program(None)
    except InhouseError:  # a command without a program (or with a wrong one) says so itself
        folder = None
    except OSError:  # the current folder was deleted: no program lies there
        folder = None
    if folder is not None:
        found.append((checkout_of(folder), folder))
    return found


def target_program(folder: str | Path | None) -> None:
    """Name the program folder the command acts on (its ``--program``; None: none named), so
    that a plugin lying in that program's checkout is refused (:func:`_refuse_checkout_plugins`)
    even where the command runs from elsewhere. ``--program`` is parsed after the root command
    may already have read the plugins (a plugin's command name), and a sub-command's only as
    it runs: where the plugins were read without this folder, they are read again now, and a
    checkout's is refused (:class:`PluginError`) before the command does anything."""
    where = None
    if folder is not None:
        path = Path(folder).expanduser().resolve()
        where = path if (path / CONFIG_NAME).is_file() else None  # a wrong one says so itself
    with _state.lock:
        if where == _state.target:
            return
        _state.target = where
        if where is None or _state.path is None or _state.loading:
            return  # nothing read yet: the first read sees it
        _state.path = None  # read again, with this checkout refused
    _load_installed()


def _load_installed() -> None:
    path = tuple(sys.path)
    if path == _state.path:
        return
    with _state.lock:
        if path == _state.path or _state.loading:
            return  # read already, or a plugin being imported asks for plugins: as it stands
        _state.loading = True
        try:
            _register_defaults()
            _read_installed()
            _state.generation += 1
            _state.path = path
        finally:
            _state.loading = False


def plugin_manager() -> pluggy.PluginManager:
    """The plugin manager, with the built-ins and every installed plugin registered."""
    _load_installed()
    return _state.pm


def generation() -> int:
    """A number that changes whenever the installed plugins are read again."""
    _load_installed()
    return _state.generation


# -- reading the hooks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Contribution:
    """What one plugin's implementation of a hook returned, and where it came from."""

    value: Any
    plugin: str
    source: str  # e.g. "built-in plugin inhouse.default_plugins.detectors"
    builtin: bool


def contributions(hook: str, *, which: Which = "all") -> list[Contribution]:
    """Each plugin's answer to ``hook``, in registration order (built-ins first).

    ``which="builtin"`` reads the built-in plugins only, without discovering installed ones;
    ``"installed"`` reads only the installed ones."""
    if which == "builtin":
        _register_defaults()
    else:
        _load_installed()
    found = []
    for impl in getattr(_state.pm.hook, hook).get_hookimpls():
        builtin = impl.plugin_name in DEFAULT_PLUGINS
        if (which == "builtin" and not builtin) or (which == "installed" and builtin):
            continue
        source = _state.sources.get(impl.plugin_name, f"plugin {impl.plugin_name!r}")
        try:
            value = impl.function()
        except PluginError:
            raise
        except Exception as err:
            raise PluginError(f"{source} failed in {hook}: {type(err).__name__}: {err}") from err
        if value is not None:
            found.append(Contribution(value, impl.plugin_name, source, builtin))
    return found


def contributed(hook: str, kind: type[T], *, which: Which = "all") -> list[tuple[T, str]]:
    """Every item the plugins' ``hook`` returned, each with its source; an item that is not a
    ``kind`` is refused, naming the plugin."""
    items = []
    for contribution in contributions(hook, which=which):
        values = contribution.value
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            values = (values,)
        for item in values:
            if not isinstance(item, kind):
                raise PluginError(
                    f"{contribution.source} returned {type(item).__name__} from {hook}, "
                    f"not {kind.__name__}"
                )
            items.append((item, contribution.source))
    return items


def _handed_over(contribution: Contribution, hook: str) -> Iterator[str]:
    """The module names a plugin hands over through ``hook``, each imported."""
    values = contribution.value
    if isinstance(values, str | ModuleType) or not isinstance(values, Iterable):
        raise PluginError(f"{contribution.source}: {hook} must return a list of modules")
    for module in values:
        if isinstance(module, ModuleType):
            yield module.__name__
            continue
        if not isinstance(module, str):
            raise PluginError(
                f"{contribution.source} returned {type(module).__name__} from {hook}, "
                "not a module or a module's dotted name"
            )
        try:
            import_module(module)
        except PluginError:
            raise
        except Exception as err:
            raise PluginError(
                f"{contribution.source} hands over module {module!r} through {hook}, which "
                f"cannot be imported: {type(err).__name__}: {err}"
            ) from err
        yield module


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


class Declarations(Generic[T]):
    """Things declared with a decorator inside modules (play checks, check types), registered
    for the plugin that hands their module over through ``hook``.

    A declaration in a module no plugin hands over (a test, a script) is the process's own: it
    joins the registry as soon as it is made, and a duplicate is refused right there. A
    declaration in a handed-over module exists while its plugin is installed."""

    def __init__(self, kind: str, hook: str) -> None:
        self.kind = kind
        self.hook = hook
        self._declared: list[tuple[str, str, T, str]] = []  # (module, name, item, origin)
        self._owned: set[str] = set()  # every module some plugin has handed over
        self._built: Registry[T] | None = None
        self._generation = -1
        self._building: Registry[T] | None = None

    def _is_owned(self, module: str) -> bool:
        return any(_within(module, package) for package in self._owned)

    def declare(self, module: str, name: str, item: T, *, origin: str) -> None:
        """Record that ``module`` declares ``item`` as ``name``; ``origin`` names the code."""
        built = self._built
        if (
            built is not None
            and self._building is None
            and not _state.loading
            and self._generation == _state.generation
            and not self._is_owned(module)
        ):
            built.add(name, item, source=origin)
        self._declared.append((module, name, item, origin))

    def registry(self) -> Registry[T]:
        """Every declaration that counts now: the plugins' (built-ins first), then the
        process's own. Rebuilt when the installed plugins change."""
        if self._building is not None:
            return self._building  # a module being imported looks something up
        now = generation()
        if self._built is not None and self._generation == now:
            return self._built
        built: Registry[T] = Registry(self.kind)
        self._building = built
        try:
            for contribution in contributions(self.hook):
                for package in _handed_over(contribution, self.hook):
                    self._owned.add(package)
                    for module, name, item, origin in self._declared:
                        if _within(module, package):
                            built.add(name, item, source=f"{contribution.source} ({origin})")
            for module, name, item, origin in self._declared:
                if not self._is_owned(module):
                    built.add(name, item, source=origin)
        finally:
            self._building = None
        self._built, self._generation = built, now
        return built


# -- collectors (inhouse.program.collectors asks for them here) -----------------------------------


def load_collectors() -> None:
    """Register the built-in collectors and every plugin's, through ``inhouse_collectors``."""
    from inhouse.program.collectors import Collector, register_collectors

    by_source: dict[str, list[Collector]] = {}
    for collector, source in contributed("inhouse_collectors", Collector):
        by_source.setdefault(source, []).append(collector)
    for source, found in by_source.items():
        register_collectors(found, source=source)
