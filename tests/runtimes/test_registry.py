"""The adapter registry: built-ins and plugins through the same seam, and clear refusals."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from inhouse.errors import ConfigError, PluginError
from inhouse.runtimes import RuntimeConfig, adapter_families, open_runtime, register_adapter
from inhouse.runtimes.openai_compat import OpenAICompatRuntime
from inhouse.runtimes.registry import _registered


def install_plugin(root: Path, family: str, module: str, body: str) -> None:
    """A real installed distribution (dist-info with an entry point) on sys.path."""
    (root / f"{module}.py").write_text(textwrap.dedent(body))
    dist = root / f"{module}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[inhouse.runtimes]\n{family} = {module}:Adapter\n")


def test_builtin_families() -> None:
    assert {"openai", "ollama", "llamacpp", "embedded"} <= set(adapter_families())


def test_unknown_family_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown runtime family 'tgi'.*llamacpp.*ollama"):
        open_runtime(RuntimeConfig(family="tgi", url="http://127.0.0.1:1"))


def test_a_plugin_adds_a_family_through_an_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, "mlx", "inhouse_mlx_plugin", """
        from inhouse.runtimes.openai_compat import OpenAICompatRuntime

        class Adapter(OpenAICompatRuntime):
            family = "mlx"
    """)  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "mlx" in adapter_families()
    runtime = open_runtime(RuntimeConfig(family="mlx", url="http://127.0.0.1:1234/v1"))
    assert runtime.family == "mlx" and runtime.url == "http://127.0.0.1:1234"
    assert isinstance(runtime, OpenAICompatRuntime)
    asyncio.run(runtime.aclose())


def test_a_plugin_cannot_shadow_a_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(tmp_path, "ollama", "inhouse_fake_ollama", "class Adapter: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    twice = r"'ollama' is registered twice: by built-in .* and by entry point ollama"
    with pytest.raises(PluginError, match=twice):
        open_runtime(RuntimeConfig(family="ollama", url="http://127.0.0.1:1"))


def test_register_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("inhouse.runtimes.registry._registered", dict(_registered))
    register_adapter("mine", OpenAICompatRuntime)
    runtime = open_runtime(RuntimeConfig(family="mine", url="http://127.0.0.1:1"))
    assert isinstance(runtime, OpenAICompatRuntime)
    asyncio.run(runtime.aclose())
    with pytest.raises(PluginError, match="'openai' is registered twice: by built-in"):
        register_adapter("openai", OpenAICompatRuntime)


def test_config_refuses_a_url_without_scheme_and_a_missing_url() -> None:
    with pytest.raises(ValidationError, match="http:// or https://"):
        RuntimeConfig(family="openai", url="localhost:8080")
    with pytest.raises(ConfigError, match="needs a url"):
        open_runtime(RuntimeConfig(name="box", family="openai"))
    with pytest.raises(ValidationError):
        RuntimeConfig(family="openai", url="http://x", timeout=0)


def test_a_factory_is_told_look_behind_only_where_it_takes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``open_runtime(..., look_behind=False)`` (the gateway's digest checks) tells a factory
    that names the keyword; a plugin's factory written before it is called as it always was,
    not refused with a TypeError; and the ordinary call passes nothing new to either."""
    monkeypatch.setattr("inhouse.runtimes.registry._registered", dict(_registered))
    told: list[tuple[str, object]] = []

    def older(config: RuntimeConfig, *, program: Path | None = None) -> OpenAICompatRuntime:
        told.append(("older", None))
        return OpenAICompatRuntime(config, program=program)

    def newer(
        config: RuntimeConfig, *, program: Path | None = None, look_behind: bool = True
    ) -> OpenAICompatRuntime:
        told.append(("newer", look_behind))
        return OpenAICompatRuntime(config, program=program, look_behind=look_behind)

    def passing(config: RuntimeConfig, **options: object) -> OpenAICompatRuntime:
        assert "look_behind" not in options  # **options may go where it is not taken
        told.append(("passing", None))
        return OpenAICompatRuntime(config)

    register_adapter("older", older)
    register_adapter("newer", newer)
    register_adapter("passing", passing)

    async def open_each(**options: bool) -> None:
        for family in ("older", "newer", "passing"):
            config = RuntimeConfig(family=family, url="http://127.0.0.1:1")
            async with open_runtime(config, **options):
                pass

    asyncio.run(open_each(look_behind=False))
    asyncio.run(open_each())
    assert told == [("older", None), ("newer", False), ("passing", None),
                    ("older", None), ("newer", True), ("passing", None)]  # fmt: skip
