"""The trial spec: validated with errors naming the file and field; inputs from JSONL or CSV
inside the program folder; prompts rendered in a sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from inhouse.errors import ConfigError, InvalidInput
from inhouse.trials.spec import (
    ApiStatusQuo,
    ManualStatusQuo,
    load_trial,
    read_inputs,
    read_minutes,
    render_prompt,
    resolve_endpoint,
)

COST = {
    "watts": 60,
    "price_per_kwh": 0.3,
    "hardware_price": 1500,
    "lifetime_hours": 26280,
    "utilisation": 0.3,
}


def spec(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "task": {"prompt": "Summarise: {{ text }}", "inputs": "data/in.jsonl"},
        "candidate": {"url": "http://127.0.0.1:8080", "model": "m", "cost": dict(COST)},
        "status_quo": {
            "kind": "api",
            "url": "https://api.example.com/v1",
            "model": "big",
            "price_input_per_mtok": 0.15,
            "price_output_per_mtok": 0.6,
        },
        "checks": [{"type": "contains", "value": "x"}],
        "meaningful": {"faster": 30},
    }
    data.update(changes)
    return data


def write(folder: Path, data: Any, name: str = "t") -> None:
    (folder / "trials").mkdir(exist_ok=True)
    (folder / "trials" / f"{name}.yaml").write_text(yaml.safe_dump(data))


def test_a_full_spec_loads(tmp_path: Path) -> None:
    write(tmp_path, spec())
    trial = load_trial(tmp_path, "t")
    assert isinstance(trial.status_quo, ApiStatusQuo)
    assert trial.status_quo.price_output_per_mtok == 0.6
    assert trial.candidate.cost.watts == 60
    assert trial.meaningful.faster == 30 and trial.meaningful.cheaper is None
    assert trial.quality_floor == 5 and trial.warmup == 1 and trial.concurrency == 1


def test_manual_status_quo(tmp_path: Path) -> None:
    write(
        tmp_path,
        spec(
            status_quo={"kind": "manual", "minutes": "m.csv", "hourly_cost": 40, "pass_rate": 0.95}
        ),
    )
    trial = load_trial(tmp_path, "t")
    assert isinstance(trial.status_quo, ManualStatusQuo)
    assert trial.status_quo.hourly_cost == 40


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"candidate": {"url": "http://x", "cost": {"watts": 5}}},
            "candidate.cost: missing local cost inputs: price_per_kwh",
        ),
        ({"candidate": {"model": "m", "cost": COST}}, "candidate: name a runtime"),
        (
            {"status_quo": {"kind": "api", "url": "https://h", "price_input_per_mtok": 1}},
            "status_quo: missing API cost input: price_output_per_mtok",
        ),
        (
            {"status_quo": {"kind": "manual", "minutes": "m.csv"}},
            "missing manual cost input: hourly_cost",
        ),
        ({"status_quo": {"kind": "mail"}}, "status_quo: Input tag 'mail' found"),
        ({"meaningful": {}}, "meaningful: claim at least one dimension"),
        ({"meaningful": {"faster": 130}}, "meaningful.faster: Input should be less than 100"),
        ({"concurrency": 0}, "concurrency: Input should be greater than or equal to 1"),
        # "acceptable quality" with a floor of 100 points accepts a candidate passing nothing
        ({"quality_floor": 100}, "quality_floor: 100 points is more than the 20 a trial may allow"),
        ({"task": {"prompt": "x"}}, "task.inputs: Field required"),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_errors_name_the_file_and_field(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    write(tmp_path, spec(**changes))
    with pytest.raises(InvalidInput) as info:
        load_trial(tmp_path, "t")
    assert str(info.value).startswith("trials/t.yaml: ")
    assert message in str(info.value)


def test_currencies_must_match(tmp_path: Path) -> None:
    data = spec()
    data["status_quo"]["currency"] = "EUR"
    write(tmp_path, data)
    with pytest.raises(InvalidInput, match="costs are compared in one currency"):
        load_trial(tmp_path, "t")


def test_missing_trial_lists_the_others(tmp_path: Path) -> None:
    write(tmp_path, spec(), name="other")
    with pytest.raises(InvalidInput, match=r"no trial trials/t.yaml .*trials here: other"):
        load_trial(tmp_path, "t")
    with pytest.raises(InvalidInput, match="trial name"):
        load_trial(tmp_path, "../escape")


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    (tmp_path / "trials").mkdir()
    (tmp_path / "trials" / "t.yaml").write_text("task: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_trial(tmp_path, "t")


def test_broken_yaml_names_the_file_and_line_not_pyyamls_stream(tmp_path: Path) -> None:
    """A trial's broken YAML said PyYAML's own text ('in "<unicode string>", line 2' and a caret
    under an empty line); it says the file and line, then the problem, as a workflow's does."""
    (tmp_path / "trials").mkdir()
    (tmp_path / "trials" / "t.yaml").write_text("description: x\ntask: [\n")
    with pytest.raises(InvalidInput) as raised:
        load_trial(tmp_path, "t")
    said = str(raised.value)
    assert said.startswith("trials/t.yaml: line 3: not valid YAML: "), said
    assert "<unicode string>" not in said and "^" not in said, said


def test_inputs_from_jsonl_and_csv(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "t1", "text": "one"}\n\n{"text": "two"}\n')
    (tmp_path / "b.csv").write_text("text,kind\nthree,x\nfour,y\n")
    jsonl = read_inputs(tmp_path, "a.jsonl")
    assert [(i.index, i.id, i.fields["text"]) for i in jsonl] == [(0, "t1", "one"), (1, "2", "two")]
    csv_rows = read_inputs(tmp_path, "b.csv")
    assert [i.fields for i in csv_rows] == [
        {"text": "three", "kind": "x"},
        {"text": "four", "kind": "y"},
    ]


def test_input_paths_cannot_escape_the_program_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="outside the program folder"):
        read_inputs(tmp_path, "../../etc/passwd.csv")


def test_bad_inputs_are_named(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"text": "ok"}\n[1, 2]\n')
    with pytest.raises(InvalidInput, match=r"a.jsonl:2: expected a JSON object"):
        read_inputs(tmp_path, "a.jsonl")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(InvalidInput, match=r"must be .jsonl or .csv"):
        read_inputs(tmp_path, "a.txt")
    with pytest.raises(InvalidInput, match=r"task.inputs: no file none.csv"):
        read_inputs(tmp_path, "none.csv")


def test_minutes_csv_needs_one_row_per_input(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("minutes,output\n4,done\n2.5,ok\n")
    record = read_minutes(tmp_path, "m.csv", 2)
    assert record.minutes == [4.0, 2.5] and record.outputs == ["done", "ok"]
    with pytest.raises(InvalidInput, match="has 2 rows of minutes but the task has 3 inputs"):
        read_minutes(tmp_path, "m.csv", 3)
    (tmp_path / "bad.csv").write_text("minutes\nfour\n")
    with pytest.raises(InvalidInput, match="row 2: minutes 'four' is not a number"):
        read_minutes(tmp_path, "bad.csv", 1)


def test_prompts_render_in_a_sandbox_with_strict_names(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "q7", "text": "hello"}\n')
    item = read_inputs(tmp_path, "a.jsonl")[0]
    assert render_prompt("Say {{ text | upper }}", item) == "Say HELLO"
    with pytest.raises(InvalidInput, match=r"task.prompt for input q7: 'missing' is undefined"):
        render_prompt("{{ missing }}", item)
    with pytest.raises(InvalidInput, match="unsafe"):
        render_prompt("{{ text.__class__.__mro__[1].__subclasses__() }}", item)


def test_runtimes_are_resolved_from_inhouse_toml(tmp_path: Path) -> None:
    write(tmp_path, spec(candidate={"runtime": "local", "cost": COST}))
    trial = load_trial(tmp_path, "t")
    config = {
        "runtimes": {"local": {"family": "openai", "url": "http://127.0.0.1:9/v1", "model": "m"}}
    }
    runtime = resolve_endpoint(tmp_path, trial.candidate, config, where="candidate")
    assert (runtime.name, runtime.url, runtime.model) == ("local", "http://127.0.0.1:9", "m")
    missing = r"candidate.runtime names \[runtimes.local\], which is not there .runtimes defined"
    with pytest.raises(ConfigError, match=missing):
        resolve_endpoint(tmp_path, trial.candidate, {}, where="candidate")
