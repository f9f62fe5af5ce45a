"""Red team of plays 1 and 2, round rt12n: the status quo's address, as the colleague reads it.

**A host before an '@'.** Play 2's ``trial-reproduced`` counts an API status quo as "how the
task is done today" only on the word of the colleague who reruns the trial
(``--confirm-status-quo``), shown the endpoint the rerun reached: ``gpt-4o at
https://api.openai.com@203.0.113.5``. What comes before the ``@`` is a user part, which the
trial's client drops: every request goes to 203.0.113.5, a server of lena's running a slow
model of her own, reached from omar's machine as from hers. omar reads OpenAI, says yes, and
the rerun holds "faster" against her server: play 2's exit passed on a word he gave about
another endpoint than the one measured (walked below on loopback, which her public address
would be).

**A look-alike host.** "api.openai.com" written with a Cyrillic a (U+0430) is
``api.xn--openi-7ve.com`` to DNS, a domain anyone can register. The trial's client wrote it into
the Host header as it was written and crashed (a traceback, no verdict): a refusal by accident,
which a client that encodes the name would not make.

Closed: a runtime's or trial side's URL names the host its requests reach as a reader reads it
(no user part before the host, a host in ASCII: the IDNA name DNS is asked for), so ``inhouse
prove`` and ``inhouse prove --rerun`` refuse such an address before anything is sent, naming
the host to write; and play 2's check does not take a colleague's confirmation of a status quo
whose recorded address is written so (a rerun by an inhouse that let it through: the release a
lock pins), asking for it written as it is reached. A play 2 that exited on such a word keeps
its exit, said.

**The test model, padded or with one tensor more.** Play 1's exit refuses a verdict on the
project's test model (random weights) outside a demo, and play 2's rerun refuses weights a
colleague's runtime finds to be it. The reading skipped any file over 16 MiB as "a real model"
and wanted the test model's tensors and no others: one metadata string (a licence text) pads it
past the bound, and an optional tensor llama.cpp loads beside them (``rope_freqs.weight`` of
ones) makes the layout another; llama.cpp serves either as before, and the verdict said
nothing of random weights. Closed: a large file is read where its header counts few enough
tensors for two layers, and the test model is every tensor it writes, whatever else the file
holds.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.program.checks import Outcome
from inhouse.runtimes.config import RuntimeConfig
from inhouse.testing.standin_upstream import StandinTiming, spawn_standin
from tests.test_playchecks import NOW, reproducible, rerun
from tests.test_playchecks import run as check
from tests.trials.test_rerun import (  # noqa: F401
    EASY,
    omar,
    program,
    reproduced,
    run,
    verdict_payload,
    write_trial,
)

#: "api.openai.com" with a Cyrillic a (U+0430) for its second a
LOOK_ALIKE = "api.open\u0430i.com"
#: the name DNS is asked for it
ITS_DNS_NAME = "api.xn--openi-7ve.com"


def _hosted(url: str) -> dict[str, Any]:
    return {"kind": "api", "url": url, "model": "gpt-4o",
            "price_input_per_mtok": 2.5, "price_output_per_mtok": 10.0}  # fmt: skip


def _facts(kind: str) -> str:
    return run("fact", "list", "--kind", kind, "--json").strip()


def test_a_status_quo_written_as_another_host_is_refused_before_anything_is_sent(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
) -> None:
    """lena proves against "gpt-4o at http://api.openai.com@127.0.0.1:PORT", a slow stand-in
    of hers (a stand-in upstream, for its timings); omar would rerun it and confirm what he
    reads as OpenAI. Her `prove` is refused naming the host the requests reach; nothing is
    recorded. Written as the host it is, the same stand-in is proven, and
    the endpoint omar is shown and confirms is that host."""
    slow = StandinTiming(400, 25, 16)
    with spawn_standin(slow, model="gpt-4o") as stand_in:
        port = int(stand_in.url.rsplit(":", 1)[1].split("/")[0])
        write_trial(program, EASY, status_quo=_hosted(f"http://api.openai.com@127.0.0.1:{port}"),
                    meaningful={"faster": 30})  # fmt: skip
        out = run("prove", "tickets", code=2)
        assert "status_quo" in out and "'api.openai.com' before an '@'" in out, out
        assert "its requests go to 127.0.0.1" in out, out
        assert _facts("trial.verdict") == "[]"
        write_trial(program, EASY, status_quo=_hosted(f"http://127.0.0.1:{port}"),
                    meaningful={"faster": 30})  # fmt: skip
        run("prove", "tickets")
        assert verdict_payload(program)["proven_on"] == ["faster"]
        out = run("prove", "tickets", "--rerun", "--confirm-status-quo",
                  "it is our team's proxy to the API", env=omar, answer="y\n")  # fmt: skip
        assert f"--confirm-status-quo: gpt-4o at http://127.0.0.1:{port}, which lena" in out, out
    result = reproduced(program)
    assert result.outcome is Outcome.PASS, result.reason


def test_a_status_quo_at_a_look_alike_host_is_a_clear_refusal(
    program: Path,  # noqa: F811
) -> None:
    """The look-alike: refused naming the name DNS is asked for, not a traceback."""
    write_trial(program, EASY, status_quo=_hosted(f"http://{LOOK_ALIKE}:9"),
                meaningful={"faster": 30})  # fmt: skip
    out = run("prove", "tickets", code=2)
    assert "status_quo" in out and f"write {ITS_DNS_NAME}" in out, out
    assert "letters other than ASCII" in out, out
    assert _facts("trial.verdict") == "[]"


@pytest.mark.parametrize(
    ("url", "named"),
    [
        (f"https://{LOOK_ALIKE}/v1", ITS_DNS_NAME),
        ("https://api.openai.com@203.0.113.5/v1", "203.0.113.5"),
        ("https://api.openai.com:x@203.0.113.5", "203.0.113.5"),
    ],
    ids=["look-alike", "user-part", "user-and-password"],
)
def test_a_runtime_address_must_read_as_the_host_it_reaches(url: str, named: str) -> None:
    """``[runtimes.NAME]`` and a trial side's inline url alike: refused, naming the host the
    requests would reach; the same host written plainly is taken."""
    with pytest.raises(ValueError, match=named.replace(".", r"\.")):
        RuntimeConfig(name="hosted", family="openai", url=url)
    plain = RuntimeConfig(name="hosted", family="openai", url=f"https://{named}/v1")
    assert plain.url == f"https://{named}"


HIDDEN = pytest.mark.parametrize(
    ("endpoint", "named"),
    [
        (f"gpt-x at https://{LOOK_ALIKE}", ITS_DNS_NAME),
        ("gpt-x at https://api.openai.com@203.0.113.5", "203.0.113.5"),
    ],
    ids=["look-alike", "user-part"],
)


@HIDDEN
def test_a_confirmation_of_a_status_quo_written_as_another_host_does_not_count(
    endpoint: str, named: str
) -> None:
    """omar's rerun by an inhouse that let lena's address through (the release her lock pins)
    recorded his word on it: play 2's check does not take it, naming the host reached; the same
    word on the address written as it is reached counts."""
    verdict = reproducible()
    result = check("trial-reproduced", verdict, rerun(status_quo_endpoint=endpoint))
    assert result.outcome is Outcome.INCONCLUSIVE, result.reason
    assert named in result.reason and "--confirm-status-quo" in result.reason, result.reason
    plain = rerun(status_quo_endpoint=f"gpt-x at https://{named}")
    assert check("trial-reproduced", verdict, plain).outcome is Outcome.PASS


@HIDDEN
def test_a_play_two_that_exited_on_such_a_word_keeps_its_exit(endpoint: str, named: str) -> None:
    """The rule came after programs exited play 2: an exit judged on such a rerun stands, said."""
    verdict, word = reproducible(), rerun(status_quo_endpoint=endpoint)
    exited = {"baseline": (NOW - timedelta(days=3), 10**9)}  # after every fact here
    kept = check("trial-reproduced", verdict, word, exited=exited)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "play 2 exited before a rerunner's word on an API status quo counted only on an " \
        "address written as the host its requests reach" in kept.reason  # fmt: skip


# -- the test model, padded past the size the reading skipped ----------------------------------


def _padded(model: Path, copy: Path, megabytes: int = 20, *, rope: bool = False) -> Path:
    """``model`` rewritten by the ``gguf`` package's own writer under a real model's name,
    without its ``inhouse.test_model`` keys and with a licence text of ``megabytes`` MB: the
    same tensors, which llama.cpp loads as before, in a file past 16 MiB. With ``rope``, an
    optional tensor besides, which llama.cpp loads too: ``rope_freqs.weight``, of ones (its
    rotary frequencies as they were)."""
    import numpy as np
    from gguf import GGUFReader, GGUFWriter

    reader = GGUFReader(model)
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    writer = GGUFWriter(copy, arch)
    for name, field in reader.fields.items():
        if name.startswith(("GGUF.", "inhouse.test_model")) or name == "general.architecture":
            continue
        sub = field.types[-1] if len(field.types) > 1 else None
        writer.add_key_value(name, field.contents(), field.types[0], sub_type=sub)
    writer.add_string("general.license", "x" * (megabytes * 1024 * 1024))
    for tensor in reader.tensors:
        writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
    if rope:  # n_rot / 2 values: the head width (64 / 4 heads) halved
        writer.add_tensor("rope_freqs.weight", np.ones(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return copy


@pytest.mark.parametrize(("megabytes", "rope"), [(20, False), (0, True), (20, True)],
                         ids=["padded", "optional-tensor", "both"])  # fmt: skip
def test_the_test_model_padded_past_16_mb_is_still_the_test_model(
    program: Path,  # noqa: F811
    test_model: Path,
    tmp_path: Path,
    megabytes: int,
    rope: bool,
) -> None:
    """lena pads the test model with one metadata string past 16 MiB, under a real model's
    name: the reading skipped any file that large as "a real model", so her trial's verdict
    said nothing of random weights (play 1's exit refuses the test model outside a demo, and
    play 2's rerun by a colleague on the same file found nothing either). Its tensors still
    give it away, and the verdict says so; as they do beside an optional tensor llama.cpp
    loads with them (the reading wanted its tensors and no others)."""
    from inhouse.runtimes.testmodel import is_test_model
    from tests.engine import serve_test_model
    from tests.trials.test_rerun import point_runtime

    padded = _padded(test_model, tmp_path / "mistral-7b-instruct.Q4_K_M.gguf", megabytes,
                     rope=rope)  # fmt: skip
    assert (padded.stat().st_size > 16 * 1024 * 1024) is bool(megabytes)
    assert is_test_model(padded)
    with serve_test_model(padded, tmp_path / "server.log", "--n_ctx", "256") as served:
        point_runtime(program, served)
        write_trial(program, EASY)
        run("prove", "tickets")
    assert verdict_payload(program).get("test_model") is True
