"""Model files: the test model is byte-identical per seed; verify reports drift; pull runs the
real huggingface_hub download code against a stand-in hub on loopback (HF_ENDPOINT)."""

from __future__ import annotations

import hashlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import InvalidInput, ModelDownloadFailed
from inhouse.runtimes import (
    is_test_model,
    list_models,
    pull_model,
    record_model,
    verify_models,
)
from inhouse.runtimes.testmodel import TEST_MODEL_LABEL
from tests.runtimes.standin import StandIn, free_port

runner = CliRunner()
COMMIT = "3f2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"


def models_folder() -> Path:
    from inhouse.location import models_dir

    return models_dir(None)  # INHOUSE_MODELS_DIR, set per test by conftest


def test_make_test_model_is_byte_identical_across_runs(tmp_path: Path) -> None:
    first = runner.invoke(app, ["models", "make-test-model", "--output", str(tmp_path / "a.gguf")])
    second = runner.invoke(app, ["models", "make-test-model", "--output", str(tmp_path / "b.gguf")])
    other = runner.invoke(
        app, ["models", "make-test-model", "--seed", "1", "--output", str(tmp_path / "c.gguf")]
    )
    assert first.exit_code == second.exit_code == other.exit_code == 0, first.output
    a, b, c = ((tmp_path / n).read_bytes() for n in ("a.gguf", "b.gguf", "c.gguf"))
    assert a == b
    assert a != c
    assert 100_000 < len(a) < 1_000_000  # "a few hundred KB"
    assert "random weights" in first.output  # says it is the test model


def test_made_model_is_recorded_listed_and_labelled() -> None:
    result = runner.invoke(app, ["models", "make-test-model"])
    assert result.exit_code == 0, result.output
    (model,) = list_models(models_folder())
    assert model.name == "inhouse-test-model.gguf"
    assert model.is_test_model and is_test_model(Path(model.path))
    assert model.record is not None and model.record.source == {"kind": "test-model", "seed": 0}
    expected = hashlib.sha256(Path(model.path).read_bytes()).hexdigest()
    assert model.record.digest == f"sha256:{expected}"
    listing = runner.invoke(app, ["models", "list"])
    assert "inhouse-test-model.gguf" in listing.output and TEST_MODEL_LABEL in listing.output


def test_verify_detects_a_flipped_byte() -> None:
    assert runner.invoke(app, ["models", "make-test-model"]).exit_code == 0
    clean = runner.invoke(app, ["models", "verify"])
    assert clean.exit_code == 0 and "matches" in clean.output
    path = models_folder() / "inhouse-test-model.gguf"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    drift = runner.invoke(app, ["models", "verify"])
    assert drift.exit_code == 1
    assert "DRIFT" in drift.output and "inhouse-test-model.gguf" in drift.output
    report = verify_models(models_folder())
    assert [(e.name, e.status) for e in report.entries] == [("inhouse-test-model.gguf", "drift")]
    assert report.entries[0].actual == "sha256:" + hashlib.sha256(data).hexdigest()


def test_verify_reports_missing_and_unrecorded_files() -> None:
    folder = models_folder()
    assert runner.invoke(app, ["models", "make-test-model"]).exit_code == 0
    (folder / "inhouse-test-model.gguf").rename(folder / "renamed.gguf")
    report = verify_models(folder)
    statuses = {e.name: e.status for e in report.entries}
    assert statuses == {"inhouse-test-model.gguf": "missing", "renamed.gguf": "unrecorded"}
    assert not report.ok


@pytest.fixture
def hub(standin: StandIn, test_model: Path, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    """A stand-in Hugging Face Hub: answers resolve URLs the way the hub does for an LFS file
    (X-Repo-Commit, ETag = the file's SHA-256, Content-Length)."""
    body = test_model.read_bytes()
    sha = hashlib.sha256(body).hexdigest()

    def resolve(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("X-Repo-Commit", COMMIT)
        h.send_header("ETag", f'"{sha}"')
        h.send_header("Accept-Ranges", "bytes")
        h.end_headers()
        if h.command == "GET":
            h.wfile.write(body)

    for revision in ("main", COMMIT):
        for method in ("HEAD", "GET"):
            path = f"/acme/tiny-GGUF/resolve/{revision}/tiny.gguf"
            standin.routes[(method, path)] = resolve
    monkeypatch.setenv("HF_ENDPOINT", standin.url)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    return standin


def test_pull_downloads_records_and_verifies(hub: StandIn, test_model: Path) -> None:
    result = runner.invoke(app, ["models", "pull", "acme/tiny-GGUF", "tiny.gguf"])
    assert result.exit_code == 0, result.output
    path = models_folder() / "tiny.gguf"
    assert path.read_bytes() == test_model.read_bytes()
    (model,) = list_models(models_folder())
    assert model.record is not None
    assert model.record.digest == f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}"
    assert model.record.source["commit"] == COMMIT
    assert model.record.source["repo"] == "acme/tiny-GGUF"
    assert COMMIT in result.output
    assert verify_models(models_folder()).ok


def test_pull_refuses_bytes_that_do_not_match_the_hubs_digest(
    hub: StandIn, test_model: Path
) -> None:
    wrong = "0" * 64

    def lying(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(test_model.stat().st_size))
        h.send_header("X-Repo-Commit", COMMIT)
        h.send_header("ETag", f'"{wrong}"')
        h.end_headers()
        if h.command == "GET":
            h.wfile.write(test_model.read_bytes())

    for key in list(hub.routes):
        hub.routes[key] = lying
    with pytest.raises(ModelDownloadFailed, match="but the hub says 0000"):
        pull_model("acme/tiny-GGUF", "tiny.gguf", folder=models_folder())
    assert not (models_folder() / "tiny.gguf").exists()
    assert list_models(models_folder()) == []


def test_pull_refuses_a_file_that_is_not_a_model_even_with_the_hubs_digest(hub: StandIn) -> None:
    """A repo's ``.gguf`` that is twelve bytes, whose SHA-256 the hub vouches for: the bytes
    are what the hub holds, but they are no model's weights, so nothing is recorded."""
    body = b"not a model."

    def honest_about_junk(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("X-Repo-Commit", COMMIT)
        h.send_header("ETag", f'"{hashlib.sha256(body).hexdigest()}"')
        h.end_headers()
        if h.command == "GET":
            h.wfile.write(body)

    for key in list(hub.routes):
        hub.routes[key] = honest_about_junk
    with pytest.raises(ModelDownloadFailed, match=r"is not a GGUF model file \(12 bytes"):
        pull_model("acme/tiny-GGUF", "tiny.gguf", folder=models_folder())
    assert not (models_folder() / "tiny.gguf").exists()
    assert list_models(models_folder()) == []
    # nor is it recorded when put there by hand and adopted
    junk = models_folder() / "adopted.gguf"
    junk.write_bytes(body)
    with pytest.raises(InvalidInput, match="only a model's weights are recorded as one"):
        record_model(models_folder(), junk, {"kind": "by-hand"})
    assert [m.record for m in list_models(models_folder())] == [None]


def test_pull_of_a_missing_file_says_so(hub: StandIn) -> None:
    with pytest.raises(ModelDownloadFailed, match="not found"):
        pull_model("acme/tiny-GGUF", "absent.gguf", folder=models_folder())


def test_offline_pull_suggests_the_test_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing listens
    result = runner.invoke(app, ["models", "pull", "acme/tiny-GGUF", "tiny.gguf"])
    assert result.exit_code == 1
    assert "cannot reach the Hugging Face Hub" in result.output
    assert "inhouse models make-test-model" in result.output
    assert "Traceback" not in result.output


def test_make_test_model_never_overwrites_a_file_that_is_not_the_test_model(
    tmp_path: Path,
) -> None:
    """`make-test-model --output notes.txt` replaced notes.txt (a real model likewise), and
    `--output somefolder` was an IsADirectoryError traceback; the test model itself is
    remade in place as before."""
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    said = runner.invoke(app, ["models", "make-test-model", "--output", str(notes)])
    assert said.exit_code == 2 and "Traceback" not in said.output, said.output
    assert "is there and is not the test model: nothing overwritten" in said.output
    assert notes.read_text() == "my notes\n"
    (tmp_path / "somefolder").mkdir()
    said = runner.invoke(
        app, ["models", "make-test-model", "--output", str(tmp_path / "somefolder")]
    )
    assert said.exit_code == 2 and "is a folder: give the file to write" in said.output, said.output
    made = tmp_path / "m.gguf"
    for _ in range(2):
        result = runner.invoke(app, ["models", "make-test-model", "--output", str(made)])
        assert result.exit_code == 0, result.output
