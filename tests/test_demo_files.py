"""`inhouse demo files`: the files `make demo` uses, written into a program folder without the
demo's build (an outsider walking the README by hand read demo_files.py to get them). The
expected text is demo_files.py's own, never a copy: what the demo writes is what this writes."""

from __future__ import annotations

import tomllib
from pathlib import Path

from typer.testing import CliRunner

from inhouse import demo_files
from inhouse.cli.app import app
from inhouse.runtimes.testmodel import TEST_MODEL_NAME

runner = CliRunner()


def _inhouse(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout + result.stderr


def _demo_program() -> Path:
    code, said = _inhouse("init", "Acme local LLMs", "--lead", "lena", "--demo")
    assert code == 0, said
    return Path.cwd()


def _toml_before(folder: Path) -> str:
    return (folder / "inhouse.toml").read_text(encoding="utf-8")


def test_writes_the_files_the_demo_uses(_isolated: Path) -> None:
    folder = _demo_program()
    before = _toml_before(folder)
    code, said = _inhouse("demo", "files")
    assert code == 0, said
    writes = demo_files.files(TEST_MODEL_NAME, f"models/{TEST_MODEL_NAME}.gguf")
    for write in writes:
        text = (folder / write.path).read_text(encoding="utf-8")
        assert text == (before + write.text if write.append else write.text), write.path
        assert write.path in said  # it says what it wrote
    # the demo's own path for the test model, and the command that makes it there
    assert f"make-test-model --output models/{TEST_MODEL_NAME}.gguf" in " ".join(said.split())
    # the program's own settings are kept, and the file is still one valid program's
    config = tomllib.loads(_toml_before(folder))
    assert config["program"]["name"] == "Acme local LLMs"
    assert config["baseline"]["models"][0]["name"] == TEST_MODEL_NAME


def test_names_the_test_model_where_the_readme_walk_made_it(_isolated: Path) -> None:
    """The README's walk makes the test model (`inhouse models make-test-model`, into
    .inhouse/models/) before these files: a baseline naming models/ failed at `baseline lock`
    ("names no file")."""
    folder = _demo_program()
    code, said = _inhouse("models", "make-test-model")
    assert code == 0, said
    code, said = _inhouse("demo", "files")
    assert code == 0, said
    made = f".inhouse/models/{TEST_MODEL_NAME}.gguf"
    assert (folder / made).is_file()
    blessed = tomllib.loads(_toml_before(folder))["baseline"]["models"][0]
    assert blessed == {"name": TEST_MODEL_NAME, "path": made}
    workflow = next(w for w in demo_files.files(TEST_MODEL_NAME, made) if "workflow" in w.path)
    assert (folder / workflow.path).read_text(encoding="utf-8") == workflow.text


def test_a_file_that_exists_is_refused_by_name_and_nothing_is_written(_isolated: Path) -> None:
    folder = _demo_program()
    before = _toml_before(folder)
    (folder / "trials").mkdir()
    (folder / "trials" / "tickets.yaml").write_text("my own trial\n", encoding="utf-8")
    code, said = _inhouse("demo", "files")
    assert code != 0
    assert "trials/tickets.yaml" in said and "--force" in said
    # nothing of the rest was written either: no half-written program to untangle
    assert (folder / "trials" / "tickets.yaml").read_text(encoding="utf-8") == "my own trial\n"
    assert not (folder / "data").exists() and not (folder / "workflows").exists()
    assert _toml_before(folder) == before


def test_a_second_run_refuses_the_tables_it_added_and_force_replaces_them(
    _isolated: Path,
) -> None:
    """Appending the tables twice made inhouse.toml invalid TOML (every command then failed)."""
    folder = _demo_program()
    assert _inhouse("demo", "files")[0] == 0
    after_first = _toml_before(folder)
    code, said = _inhouse("demo", "files")
    assert code != 0
    assert "[baseline] in inhouse.toml" in said and "[runtimes.local] in inhouse.toml" in said
    assert _toml_before(folder) == after_first
    (folder / "data" / "minutes.csv").write_text("minutes,output\n1,x\n", encoding="utf-8")
    code, said = _inhouse("demo", "files", "--force")
    assert code == 0, said
    assert _toml_before(folder) == after_first  # replaced, not appended again
    tomllib.loads(after_first)
    minutes = next(w for w in demo_files.files(TEST_MODEL_NAME, "x") if w.path.endswith(".csv"))
    assert (folder / "data" / "minutes.csv").read_text(encoding="utf-8") == minutes.text


def test_outside_a_program_it_says_to_start_one(_isolated: Path) -> None:
    code, said = _inhouse("demo", "files")
    assert code != 0 and "inhouse init" in said
    assert not any(Path.cwd().iterdir())


def test_a_model_of_ones_own_is_named_as_the_demo_names_it(_isolated: Path) -> None:
    folder = _demo_program()
    gguf = folder.parent / "qwen-small.gguf"
    gguf.write_bytes(b"GGUF")
    code, said = _inhouse("demo", "files", "--model", str(gguf))
    assert code == 0, said
    blessed = tomllib.loads(_toml_before(folder))["baseline"]["models"][0]
    assert blessed == {"name": "qwen-small", "path": str(gguf.resolve())}
    assert demo_files.model(str(gguf)) == ("qwen-small", str(gguf.resolve()))


def test_a_real_program_is_warned_that_the_test_model_does_not_count(_isolated: Path) -> None:
    code, said = _inhouse("init", "Acme local LLMs", "--lead", "lena")
    assert code == 0, said
    code, said = _inhouse("demo", "files")
    assert code == 0, said
    assert "a real program's plays 1-3 do not pass on it" in " ".join(said.split())


def test_a_table_it_cannot_edit_is_refused_even_with_force(_isolated: Path) -> None:
    """A table written as an inline table: --force cannot replace it by its header, so it says
    so and leaves everything as it was, instead of writing an inhouse.toml no command reads."""
    folder = _demo_program()
    with (folder / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[runtimes]\nlocal = { family = "ollama" }\n')
    before = _toml_before(folder)
    code, said = _inhouse("demo", "files", "--force")
    assert code != 0
    said = " ".join(said.split())
    assert "cannot replace [runtimes.local]" in said and "Nothing written" in said
    assert _toml_before(folder) == before and not (folder / "trials").exists()
