"""The [baseline] table: validated, with errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.baseline import baseline_runtime, read_manifest
from inhouse.baseline.manifest import ModelSource
from inhouse.errors import ConfigError

RUNTIME = '[runtimes.local]\nfamily = "openai"\nurl = "http://127.0.0.1:8080"\n'


def write(folder: Path, baseline: str, runtimes: str = RUNTIME) -> Path:
    (folder / "inhouse.toml").write_text(
        '[program]\nname = "Acme"\nlead = "lena"\n\n' + runtimes + "\n[baseline]\n" + baseline
    )
    return folder


def refused(folder: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        read_manifest(folder)
    return str(caught.value)


def test_a_manifest_with_one_model_by_name(_isolated: Path) -> None:
    write(_isolated, 'owner = "lena"\nruntime = "local"\nmodels = ["qwen"]\n')
    manifest = read_manifest(_isolated)
    assert manifest.owner == "lena"
    assert [m.name for m in manifest.models] == ["qwen"]
    assert manifest.version is None


def test_three_models_are_refused_quoting_the_play(_isolated: Path) -> None:
    write(_isolated, 'owner = "lena"\nruntime = "local"\nmodels = ["a", "b", "c"]\n')
    message = refused(_isolated)
    assert "baseline.models" in message
    assert "3 blessed models (a, b, c); the play says one or two" in message


def test_no_model_and_a_twice_named_model_are_refused(_isolated: Path) -> None:
    write(_isolated, 'owner = "lena"\nruntime = "local"\nmodels = []\n')
    assert "baseline.models: name one or two blessed models" in refused(_isolated)
    write(_isolated, 'owner = "lena"\nruntime = "local"\nmodels = ["a", "a"]\n')
    assert "a model is named twice" in refused(_isolated)


def test_errors_name_the_field(_isolated: Path) -> None:
    write(_isolated, 'runtime = "local"\nmodels = ["a"]\n')
    assert "baseline.owner: Field required" in refused(_isolated)
    write(_isolated, 'owner = "lena"\nruntime = "local"\nmodels = [{name = "a", sha = "x"}]\n')
    assert "baseline.models.0.sha: Extra inputs are not permitted" in refused(_isolated)
    write(
        _isolated,
        'owner = "lena"\nruntime = "local"\nmodels = [{name = "a", source = "s3://b/k"}]\n',
    )
    assert "baseline.models.0.source: 's3://b/k': a source is hf://" in refused(_isolated)


def test_the_runtime_must_be_a_runtimes_table(_isolated: Path) -> None:
    write(_isolated, 'owner = "lena"\nruntime = "gpu"\nmodels = ["a"]\n')
    assert (
        "baseline.runtime names [runtimes.gpu], which is not there (runtimes defined: local)"
        in (refused(_isolated))
    )
    write(
        _isolated,
        'owner = "lena"\nruntime = "local"\nmodels = ["a"]\n',
        runtimes='[runtimes.local]\nfamily = "openai"\nurl = "ftp://x"\n',
    )
    assert "runtimes.local.url" in refused(_isolated)


def test_no_baseline_table_says_what_to_write(_isolated: Path) -> None:
    (_isolated / "inhouse.toml").write_text('[program]\nname = "Acme"\nlead = "lena"\n')
    assert "has no [baseline] table: name the owner, the runtime" in refused(_isolated)


def test_baseline_runtime_resolves_model_path_from_the_program(_isolated: Path) -> None:
    runtimes = '[runtimes.local]\nfamily = "embedded"\nmodel_path = "models/m.gguf"\n'
    write(_isolated, 'owner = "lena"\nruntime = "local"\nmodels = ["m"]\n', runtimes=runtimes)
    runtime = baseline_runtime(_isolated)
    assert runtime.name == "local" and runtime.family == "embedded"
    assert runtime.model_path == _isolated / "models" / "m.gguf"


@pytest.mark.parametrize(
    ("text", "kind", "location", "name", "revision"),
    [
        ("hf://Org/Repo-GGUF/sub/m.Q4.gguf@v1", "hf", "Org/Repo-GGUF", "m.Q4.gguf", "v1"),
        ("hf://Org/Repo/m.gguf", "hf", "Org/Repo", "m.gguf", None),
        ("https://host/files/m.gguf", "url", "https://host/files/m.gguf", "m.gguf", None),
        ("models/m.gguf", "file", "models/m.gguf", "m.gguf", None),
        ("file:///srv/m.gguf", "file", "/srv/m.gguf", "m.gguf", None),
    ],
)
def test_model_sources(
    text: str, kind: str, location: str, name: str, revision: str | None
) -> None:
    source = ModelSource.parse(text)
    assert (source.kind, source.location, source.file_name, source.revision) == (
        kind,
        location,
        name,
        revision,
    )


def test_a_bad_hub_source_shows_the_shape() -> None:
    with pytest.raises(ValueError, match=r"hf://ORG/REPO/FILE\.gguf"):
        ModelSource.parse("hf://just-a-repo")


def test_control_characters_are_refused(_isolated: Path) -> None:
    # a newline in a name would break out of a line of the install script
    write(_isolated, 'owner = "lena"\nruntime = "local"\nmodels = ["a\\nrm -rf ~"]\n')
    assert "baseline.models.0.name: String should match pattern" in refused(_isolated)
