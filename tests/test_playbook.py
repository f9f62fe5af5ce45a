"""The playbook is data: the shipped one is valid and complete; a broken one is refused with the
file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from inhouse.errors import PlaybookError, UnknownPlay
from inhouse.program.playbook import Role, load_playbook, parse_playbook

SHIPPED = Path(__file__).parents[1] / "src" / "inhouse" / "playbooks" / "local-model-program.yaml"


def test_the_shipped_playbook_has_six_plays_with_owners_triggers_exits() -> None:
    book = load_playbook()
    assert book.name == "local-model-program" and book.version >= 1
    assert book.ids == ["prove-value", "baseline", "workflow", "pilot", "support", "measure"]
    for play in book.plays:
        assert play.trigger and play.exit and play.owner.who
    assert book.play(2).owner.previous == "same"  # 1 -> 2 is the same person by design
    assert {p.owner.previous for p in book.plays[2:]} == {"different"}
    assert book.play("pilot").owner.role is Role.ROLLOUT_LEAD
    assert book.play(6).ongoing


def test_plays_are_found_by_number_or_id_and_unknown_ones_are_named() -> None:
    book = load_playbook()
    assert book.play("3").id == book.play("workflow").id == "workflow"
    with pytest.raises(UnknownPlay, match=r"no play '9'.*1 \(prove-value\)"):
        book.play(9)


def _broken(mutate: object) -> str:
    data = yaml.safe_load(SHIPPED.read_text())
    mutate(data)  # type: ignore[operator]
    return yaml.safe_dump(data, sort_keys=False)


def test_a_missing_field_names_line_and_field() -> None:
    text = _broken(lambda d: d["plays"][2].pop("owner"))
    with pytest.raises(PlaybookError) as err:
        parse_playbook(text, source="mine.yaml")
    message = str(err.value)
    assert "plays.2.owner: Field required" in message
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "id: workflow" in row)
    assert f"mine.yaml:{line}:" in message


def test_a_wrong_value_names_its_own_line() -> None:
    text = _broken(lambda d: d["plays"][0]["owner"].update(role="boss"))
    with pytest.raises(PlaybookError) as err:
        parse_playbook(text, source="mine.yaml")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "role: boss" in row)
    assert f"mine.yaml:{line}: plays.0.owner.role" in str(err.value)


def test_an_unknown_check_is_refused_with_the_known_ones() -> None:
    text = _broken(lambda d: d["plays"][1]["exit"][0].update(check="vibes"))
    with pytest.raises(PlaybookError, match=r"plays\.1\.exit\.0\.check: unknown check 'vibes'"):
        parse_playbook(text)


def test_duplicate_ids_and_bad_yaml_are_refused() -> None:
    dup = _broken(lambda d: d["plays"][1].update(id="prove-value"))
    with pytest.raises(PlaybookError, match="appears twice"):
        parse_playbook(dup)
    with pytest.raises(PlaybookError, match="not valid YAML"):
        parse_playbook("plays: [unclosed")
    with pytest.raises(PlaybookError, match="a mapping"):
        parse_playbook("- just a list")


def test_yaml_loads_safely() -> None:
    with pytest.raises(PlaybookError):
        parse_playbook("!!python/object/apply:os.system ['echo pwned']")


def test_a_program_may_run_its_own_playbook_file(tmp_path: Path) -> None:
    custom = tmp_path / "ours.yaml"
    custom.write_text(_broken(lambda d: d.update(name="ours", version=3)))
    book = load_playbook(custom)
    assert (book.name, book.version) == ("ours", 3)
    with pytest.raises(PlaybookError, match="no shipped playbook named 'nope'"):
        load_playbook("nope")
