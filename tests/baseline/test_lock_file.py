"""The lock file: built from what a runtime reported, sorted, stable, tamper-evident."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from inhouse import __version__
from inhouse.baseline import Lock, read_lock
from inhouse.baseline.drift import drifts
from inhouse.baseline.lock import build_lock, lock_text, write_lock
from inhouse.baseline.manifest import Manifest
from inhouse.errors import ConfigError, NotAllowed
from inhouse.runtimes.protocol import Inventory, ModelInfo

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def inventory(*models: ModelInfo, version: str | None = "0.5.1") -> Inventory:
    return Inventory(
        runtime="local", family="ollama", url="http://127.0.0.1:11434", version=version,
        models=list(models),
    )  # fmt: skip


def manifest(*names: str, version: str | None = None) -> Manifest:
    return Manifest(
        owner="lena", runtime="local", version=version, models=[{"name": n} for n in names]
    )


def a_lock() -> Lock:
    served = inventory(
        ModelInfo(id="qwen:0.5b", digest=A, digest_source="ollama-manifest", size=397_000_000),
        ModelInfo(id="/srv/models/phi.gguf", digest=B, digest_source="file-sha256", size=10),
    )
    return build_lock(manifest("qwen:0.5b", "phi"), served, runtime_family="ollama", rules="r1")


def test_the_lock_pins_what_the_runtime_reported() -> None:
    lock = a_lock()
    assert lock.runtime.version == "0.5.1" and lock.runtime.family == "ollama"
    assert [(m.name, m.digest, m.size) for m in lock.models] == [
        ("qwen:0.5b", A, 397_000_000),
        ("phi", B, 10),  # found by file name: the server lists the path
    ]
    assert lock.inhouse == __version__ and lock.rules_hash == "r1"
    assert lock.lock_hash == lock.computed_hash() and lock.lock_hash.startswith("sha256:")


def test_the_file_is_sorted_toml_without_timestamps(_isolated: Path) -> None:
    lock = a_lock()
    assert write_lock(_isolated, lock) is True
    text = (_isolated / "inhouse.lock").read_text()
    data = tomllib.loads(text)
    scalars = [k for k in data if not isinstance(data[k], dict | list)]
    tables = [k for k in data if k not in scalars]
    assert list(data) == sorted(scalars) + sorted(tables)  # TOML puts tables last
    assert list(data["runtime"]) == sorted(data["runtime"])
    assert all(list(m) == sorted(m) for m in data["models"])
    assert "202" not in text.replace(lock.lock_hash, "")  # no dates anywhere
    # locking again with nothing changed writes nothing, and the text is the same
    assert write_lock(_isolated, a_lock()) is False
    assert lock_text(a_lock()) == text
    assert read_lock(_isolated) == lock


def test_any_change_changes_the_hash() -> None:
    lock = a_lock()
    other = build_lock(
        manifest("qwen:0.5b"), inventory(ModelInfo(id="qwen:0.5b", digest=A)),
        runtime_family="ollama", rules="r1",
    )  # fmt: skip
    assert other.lock_hash != lock.lock_hash
    rules = build_lock(
        manifest("qwen:0.5b"), inventory(ModelInfo(id="qwen:0.5b", digest=A)),
        runtime_family="ollama", rules="r2",
    )  # fmt: skip
    assert rules.lock_hash != other.lock_hash


def test_a_hand_edited_lock_is_refused(_isolated: Path) -> None:
    write_lock(_isolated, a_lock())
    path = _isolated / "inhouse.lock"
    path.write_text(path.read_text().replace("a" * 64, "c" * 64))
    with pytest.raises(ConfigError, match="was changed by hand"):
        read_lock(_isolated)
    path.write_text("not = [toml")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        read_lock(_isolated)
    path.write_bytes(b'format = "\xff\xfe"\n')  # not UTF-8: refused by name, no traceback
    with pytest.raises(ConfigError, match="is not valid TOML: not UTF-8 text"):
        read_lock(_isolated)
    path.unlink()
    assert read_lock(_isolated) is None


def test_a_model_that_is_not_blessed_is_not_allowed() -> None:
    lock = a_lock()
    assert lock.model("phi").digest == B
    with pytest.raises(
        NotAllowed, match=r"'llama3' is not a blessed model .*blessed: qwen:0.5b, phi"
    ):
        lock.model("llama3")


def test_what_cannot_be_pinned_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"baseline.models.0.name: .* does not serve 'gone'"):
        build_lock(manifest("gone"), inventory(ModelInfo(id="qwen", digest=A)),
                   runtime_family="ollama", rules="")  # fmt: skip
    with pytest.raises(ConfigError, match="without a content digest, so it cannot be pinned"):
        build_lock(manifest("qwen"), inventory(ModelInfo(id="qwen")),
                   runtime_family="ollama", rules="")  # fmt: skip
    with pytest.raises(ConfigError, match=r"baseline.version is '0.6.0', but .* reports 0.5.1"):
        build_lock(manifest("qwen", version="0.6.0"), inventory(ModelInfo(id="qwen", digest=A)),
                   runtime_family="ollama", rules="")  # fmt: skip


def test_drifts_name_the_locked_and_found_digests() -> None:
    lock = a_lock()
    same = [ModelInfo(id="qwen:0.5b", digest=A), ModelInfo(id="phi.gguf", digest=B)]
    assert drifts(lock, same, where="runtime local") == []
    changed = [ModelInfo(id="qwen:0.5b", digest=B)]
    found = drifts(lock, changed, where="runtime local")
    assert [(d.model, d.locked, d.found) for d in found] == [("qwen:0.5b", A, B), ("phi", B, None)]
    assert str(found[0]) == f"qwen:0.5b: digest mismatch: locked {A}, found {B}"
    assert "not served by runtime local (it lists: qwen:0.5b)" in str(found[1])


def test_rules_are_hashed_and_only_for_blessed_models() -> None:
    from inhouse.baseline import rules_hash

    blessed = manifest("qwen")
    assert rules_hash({}, blessed) == ""  # no [data_rules] written
    one = rules_hash({"data_rules": {"default": "redact"}}, blessed)
    two = rules_hash({"data_rules": {"default": "block"}}, blessed)
    assert len(one) == 64 and one != two
    stray = {"data_rules": {"models": {"llama3": {"default": "allow"}}}}
    with pytest.raises(
        ConfigError, match=r"inhouse.toml: data_rules.models.llama3: 'llama3' is not a blessed"
    ):
        rules_hash(stray, blessed)
