"""Where the workers of one ``serve --workers N`` answer each other's ``/metrics``
(:mod:`inhouse.gateway.peers`): real Unix sockets in a real temporary folder. The folder sits in
the temporary folder, which every user may write: a worker uses it only where it is a folder of
its own user's that nobody else may reach, and a storm of scrapes asks the other workers once
at a time, not once a scrape."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from inhouse.gateway.peers import Peers

_FORGED = b"# TYPE inhouse_gateway_requests counter\ninhouse_gateway_requests_total 1e9\n"


async def _forger(folder: Path, index: int) -> asyncio.AbstractServer:
    """Whoever made ``folder``: it answers in worker ``index``'s place, series of its own."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(_FORGED)
        await writer.drain()
        writer.close()

    return await asyncio.start_unix_server(answer, path=str(folder / f"{index}.sock"))


def _own(people: bool) -> bytes:
    return b"own\n"


@pytest.fixture
def _tmp() -> Path:
    """A short folder of this user's (a socket's path is at most 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="peers-") as folder:
        yield Path(folder)


@pytest.mark.parametrize("how", ["link", "others may write"])
def test_a_folder_someone_else_could_make_is_neither_asked_nor_answered_in(
    _tmp: Path, how: str
) -> None:
    """The forgery: once the last worker out removed the folder, another user makes it again
    (or a link of its name to a folder of theirs) and answers for the other workers. The
    starting worker neither listens there nor reads what is there: the scrape says the others
    did not answer, it shows none of the forged series."""
    theirs = _tmp / "theirs"
    theirs.mkdir(mode=0o777)
    theirs.chmod(0o777)
    folder = _tmp / "inhouse-gateway-x"
    if how == "link":
        folder.symlink_to(theirs)
    else:
        folder = theirs

    async def run() -> None:
        forger = await _forger(theirs, 1)
        peers = Peers(folder, 0, 2)
        try:
            await peers.start(_own)
            said, unanswered = await peers.ask(True)
        finally:
            await peers.close()
            forger.close()
        assert _FORGED not in said
        assert (said, unanswered) == ([], 1)
        assert not (theirs / "0.sock").exists()  # nobody may read this worker's there

    asyncio.run(run())


def test_workers_in_a_folder_of_their_own_answer_each_other(_tmp: Path) -> None:
    """The honest path: the supervisor's folder (0700), and one the last worker out removed
    made again by the next worker to start."""
    folder = _tmp / "inhouse-gateway-y"

    async def run() -> None:
        first, second = Peers(folder, 0, 2), Peers(folder, 1, 2)
        await first.start(lambda people: b"first\n")
        await second.start(lambda people: b"second people\n" if people else b"second\n")
        try:
            assert await first.ask(True) == ([b"second people\n"], 0)
            assert await second.ask(False) == ([b"first\n"], 0)
            assert (os.stat(folder).st_mode & 0o777) == 0o700
        finally:
            await first.close()
            await second.close()
        assert not folder.exists()  # the last worker out removed it

    asyncio.run(run())


def test_a_storm_of_scrapes_asks_each_other_worker_once_at_a_time(_tmp: Path) -> None:
    """Fifty scrapes at once on one worker: every other worker renders its series once for
    all of them (it rendered them fifty times, on the event loop that answers requests), each
    person's series apart from the models' alone."""
    folder = _tmp / "inhouse-gateway-z"
    rendered: list[bool] = []

    def render(people: bool) -> bytes:
        rendered.append(people)
        return b"people\n" if people else b"models\n"

    async def run() -> None:
        asking, answering = Peers(folder, 0, 2), Peers(folder, 1, 2)
        await asking.start(_own)
        await answering.start(render)
        try:
            storm = [asking.ask(True) for _ in range(50)] + [asking.ask(False) for _ in range(50)]
            answers = await asyncio.gather(*storm)
            assert answers[:50] == [([b"people\n"], 0)] * 50
            assert answers[50:] == [([b"models\n"], 0)] * 50
            assert sorted(rendered) == [False, True]
            assert await asking.ask(True) == ([b"people\n"], 0)  # a later scrape asks again
            assert len(rendered) == 3
        finally:
            await asking.close()
            await answering.close()

    asyncio.run(run())


def test_an_answer_cut_short_is_left_out_not_read_as_every_series(_tmp: Path) -> None:
    """A worker killed while it wrote its series (a supervisor's restart, an OOM kill) closes
    the socket half-way: the scrape counts it as not answering. Read as its whole answer, a
    line cut in two failed the whole scrape (500), and one cut at a line's end dropped series
    without a word."""
    from inhouse.gateway.metrics import Metrics, merged

    folder = _tmp / "inhouse-gateway-w"
    whole = Metrics().render(people=False, worker=1)

    async def run() -> None:
        asking = Peers(folder, 0, 2)
        await asking.start(_own)
        try:
            for cut in (len(whole) // 2, whole.index(b"\n", len(whole) // 2) + 1):

                async def dying(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                    await reader.readline()
                    writer.write(whole[:cut])  # noqa: B023 - used before the next cut
                    await writer.drain()
                    writer.close()

                server = await asyncio.start_unix_server(dying, path=str(folder / "1.sock"))
                try:
                    said, unanswered = await asking.ask(False)
                finally:
                    server.close()
                    await server.wait_closed()
                    (folder / "1.sock").unlink()
                assert (said, unanswered) == ([], 1), cut
                merged([Metrics().render(people=False, worker=0), *said], unanswered)
        finally:
            await asking.close()

    asyncio.run(run())


def test_closing_ends_a_scrape_asking_a_stuck_worker(
    _tmp: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker stops (SIGTERM, its supervisor gone) while a scrape it took asks another
    worker that accepted and never answers: closing ends the round under way, and the scrape
    answers with this worker's series alone, the other counted as not answering. It waited on
    the stuck socket (here, as long as a scrape may wait: an hour), and the round was left to
    be destroyed with the event loop. Nothing is logged as an error; a scrape that comes once
    the worker is closing asks nobody."""
    from inhouse.gateway import peers as module

    monkeypatch.setattr(module, "ASK_SECONDS", 3600.0)
    folder = _tmp / "inhouse-gateway-v"
    troubles: list[dict[str, Any]] = []

    async def run() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, said: troubles.append(said))
        reached, release = asyncio.Event(), asyncio.Event()

        async def stuck(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readline()
            reached.set()
            await release.wait()
            writer.close()

        asking = Peers(folder, 0, 2)
        await asking.start(_own)
        other = await asyncio.start_unix_server(stuck, path=str(folder / "1.sock"))
        try:
            scrape = asyncio.create_task(asking.ask(True))
            await asyncio.wait_for(reached.wait(), 30)
            await asyncio.wait_for(asking.close(), 30)
            assert await asyncio.wait_for(scrape, 30) == ([], 1)
            assert await asking.ask(False) == ([], 1)
        finally:
            release.set()
            other.close()

    with caplog.at_level(logging.WARNING):
        asyncio.run(run())
    assert troubles == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def _left(parent: Path, name: str, *, lock: bool = True, mode: int = 0o700) -> Path:
    """A serve's folder as one killed with its workers (``kill -9``) leaves it: its sockets'
    names, and the ``serve.lock`` nobody holds any more."""
    folder = parent / name
    folder.mkdir(mode=mode)
    folder.chmod(mode)
    (folder / "0.sock").write_bytes(b"")
    if lock:
        (folder / "serve.lock").write_bytes(b"")
    return folder


def test_a_later_serve_sweeps_only_folders_of_its_own_user_s_serves_that_are_gone(
    _tmp: Path,
) -> None:
    """Folders a ``serve`` killed with its workers left are removed; the cheapest ways to have
    a sweep remove something else are refused: a link of that name (to a folder of this
    user's that looks left behind), another user's folder, a live serve's (its supervisor
    holds its lock), one being made or an older inhouse's (no lock), one whose lock is a link,
    one others may reach, one holding a folder, and anything not named as a serve's."""
    from inhouse.gateway.peers import hold, sweep

    gone = _left(_tmp, "inhouse-gateway-gone")
    elsewhere = _tmp / "elsewhere"
    elsewhere.mkdir()
    target = _left(elsewhere, "looks-left")
    (_tmp / "inhouse-gateway-link").symlink_to(target)
    theirs = _left(_tmp, "inhouse-gateway-theirs")
    if os.geteuid() == 0:  # only root can give a folder to another user
        os.chown(theirs, 65534, 65534)
    else:  # a folder whose owner is not this user's, as far as a sweep can tell
        theirs.chmod(0o000)
    live = _tmp / "inhouse-gateway-live"
    live.mkdir(mode=0o700)
    held = hold(live)
    making = _left(_tmp, "inhouse-gateway-making", lock=False)
    linked_lock = _left(_tmp, "inhouse-gateway-linked-lock", lock=False)
    outside = elsewhere / "outside.lock"
    outside.write_bytes(b"keep")
    (linked_lock / "serve.lock").symlink_to(outside)
    reachable = _left(_tmp, "inhouse-gateway-reachable", mode=0o755)
    nested = _left(_tmp, "inhouse-gateway-nested")
    (nested / "inside").mkdir()
    other = _left(_tmp, "not-a-gateway")
    try:
        assert sweep([_tmp, str(_tmp)]) == [gone]
        assert not gone.exists()
        for kept in (theirs, live, making, linked_lock, reachable, nested, other):
            assert kept.is_dir(), kept
        assert (_tmp / "inhouse-gateway-link").is_symlink()
        assert sorted(p.name for p in target.iterdir()) == ["0.sock", "serve.lock"]
        assert (live / "serve.lock").exists() and outside.read_bytes() == b"keep"
        if os.geteuid() != 0:
            theirs.chmod(0o700)
        assert sorted(p.name for p in theirs.iterdir()) == ["0.sock", "serve.lock"]
    finally:
        os.close(held)
    # the live serve gone (its supervisor killed), its folder is the next sweep's
    assert sweep([_tmp]) == [live]


def test_a_temporary_folder_that_locks_nothing_still_serves_and_is_never_swept(
    _tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``TMPDIR`` on NFS without its lock daemon answers ``flock`` with ENOLCK: ``serve``,
    which ran there before the sweep, no longer started at all. It runs, holding no
    ``serve.lock``: a later serve's sweep, which takes a folder whose ``serve.lock`` nobody
    holds, leaves it (one left there unlocked would have been swept while it served)."""
    import errno

    from inhouse.gateway import peers

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    live = _tmp / "inhouse-gateway-nfs"
    live.mkdir(mode=0o700)
    (live / "0.sock").write_bytes(b"")
    monkeypatch.setattr(peers.fcntl, "flock", no_locks)
    assert peers.hold(live) is None
    assert sorted(p.name for p in live.iterdir()) == ["0.sock"]
    monkeypatch.undo()  # a sweep from a folder that locks, or not: it is left either way
    assert peers.sweep([_tmp]) == []
    monkeypatch.setattr(peers.fcntl, "flock", no_locks)
    assert peers.sweep([_tmp]) == []
    assert live.is_dir()


def _older(parent: Path, name: str, *sockets: str, worker: socket.socket | None = None) -> Path:
    """A serve's folder as an older inhouse's (no ``serve.lock``) killed with its workers
    leaves it: a real socket per worker, bound once and nobody listening on it now, its folder
    unchanged for longer than a sweep waits. ``worker`` (a new Unix socket): a worker serving
    still, listening there as ``9.sock``."""
    from inhouse.gateway.peers import UNLOCKED_AFTER_SECONDS

    folder = parent / name
    folder.mkdir(mode=0o700)
    for each in sockets:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(str(folder / each))
    if worker is not None:
        worker.bind(str(folder / "9.sock"))
        worker.listen()
    then = time.time() - UNLOCKED_AFTER_SECONDS - 60
    os.utime(folder, (then, then))
    return folder


def test_a_folder_an_older_inhouse_left_is_swept_once_nobody_listens_there(_tmp: Path) -> None:
    """An older inhouse made no ``serve.lock``: its folders, left by a serve killed with its
    workers, stayed in the temporary folder for ever. A sweep takes one that has not changed
    for long and holds nothing but sockets nobody listens on (an empty one too); it leaves one
    a worker still listens in, one changed lately (a serve's being made, a worker started
    again), one holding anything a serve does not make there (a file, a socket not named as a
    worker's), a link to a folder like it, another user's, and one others may reach."""
    from inhouse.gateway.peers import sweep

    gone = _older(_tmp, "inhouse-gateway-old", "0.sock", "1.sock")
    empty = _older(_tmp, "inhouse-gateway-empty")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as worker:
        live = _older(_tmp, "inhouse-gateway-live", "0.sock", worker=worker)
        fresh = _older(_tmp, "inhouse-gateway-fresh", "0.sock")
        os.utime(fresh)  # changed just now
        notes = _tmp / "notes"
        notes.mkdir()
        (notes / "mine.txt").write_text("keep\n")
        other_file = _older(_tmp, "inhouse-gateway-file", "0.sock")
        os.link(notes / "mine.txt", other_file / "1.sock")  # a file named as a socket
        then = time.time() - 3600
        os.utime(other_file, (then, then))
        other_socket = _older(_tmp, "inhouse-gateway-other-socket", "0.sock", "mine.sock")
        elsewhere = _tmp / "elsewhere"
        elsewhere.mkdir()
        target = _older(elsewhere, "looks-left", "0.sock")
        (_tmp / "inhouse-gateway-link").symlink_to(target)
        theirs = _older(_tmp, "inhouse-gateway-theirs", "0.sock")
        if os.geteuid() == 0:  # only root can give a folder to another user
            os.chown(theirs, 65534, 65534)
        else:  # a folder whose owner is not this user's, as far as a sweep can tell
            theirs.chmod(0o000)
        reachable = _older(_tmp, "inhouse-gateway-reachable", "0.sock")
        reachable.chmod(0o755)
        assert sorted(sweep([_tmp])) == sorted([gone, empty])
        assert not gone.exists() and not empty.exists()
        assert sorted(p.name for p in live.iterdir()) == ["0.sock", "9.sock"]
        assert [p.name for p in fresh.iterdir()] == ["0.sock"]
        assert sorted(p.name for p in other_file.iterdir()) == ["0.sock", "1.sock"]
        assert (notes / "mine.txt").read_text() == "keep\n"
        assert sorted(p.name for p in other_socket.iterdir()) == ["0.sock", "mine.sock"]
        assert (_tmp / "inhouse-gateway-link").is_symlink()
        assert [p.name for p in target.iterdir()] == ["0.sock"]
        assert reachable.is_dir() and [p.name for p in reachable.iterdir()] == ["0.sock"]
        if os.geteuid() != 0:
            theirs.chmod(0o700)
        assert [p.name for p in theirs.iterdir()] == ["0.sock"]
    # its last worker gone, nobody listens there: the next sweep takes it
    then = time.time() - 3600
    os.utime(live, (then, then))
    assert sweep([_tmp]) == [live]


def test_a_folder_without_a_lock_where_nothing_locks_is_never_swept(
    _tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the temporary folder locks nothing (NFS without its lock daemon) a live serve
    holds no ``serve.lock`` either, perhaps on another host sharing the folder, whose
    workers' sockets refuse a connection from this one: such a folder is never swept, however
    old, however dead its sockets look."""
    import errno

    from inhouse.gateway import peers

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    kept = _older(_tmp, "inhouse-gateway-nfs", "0.sock", "1.sock")
    monkeypatch.setattr(peers.fcntl, "flock", no_locks)
    assert peers.sweep([_tmp]) == []
    assert sorted(p.name for p in kept.iterdir()) == ["0.sock", "1.sock"]
    monkeypatch.undo()  # the same folder where locks work is an older inhouse's, left
    assert peers.sweep([_tmp]) == [kept]


def test_a_folder_without_a_lock_on_a_filesystem_other_hosts_share_is_never_swept(
    _tmp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary folder on NFS with its lock daemon (a home's ``TMPDIR`` many hosts
    share): ``flock`` works, yet an older inhouse's serve running on another host holds no
    ``serve.lock``, and its listening workers' sockets refuse this host's connection (a Unix
    socket is answered only on the machine that bound it). Such a folder is never swept,
    however old; the same folder on this machine's own filesystem is an older inhouse's, left."""
    from inhouse.gateway import peers

    kept = _older(_tmp, "inhouse-gateway-elsewhere", "0.sock", "1.sock")
    device = os.stat(kept).st_dev
    mounts = tmp_path / "mountinfo"
    mounts.write_text(
        f"27 1 {os.major(device)}:{os.minor(device)} / {_tmp.anchor} rw,relatime - nfs4 "
        "files:/home rw,vers=4.2\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(peers, "_MOUNTS", str(mounts), raising=False)
    assert peers.sweep([_tmp]) == []
    assert sorted(p.name for p in kept.iterdir()) == ["0.sock", "1.sock"]
    unreadable = tmp_path / "none"  # not Linux, or no /proc: nothing to tell by, so left
    monkeypatch.setattr(peers, "_MOUNTS", str(unreadable), raising=False)
    assert peers.sweep([_tmp]) == []
    monkeypatch.undo()
    assert peers.sweep([_tmp]) == [kept]


def test_a_worker_bound_anew_once_its_folder_was_judged_dead_keeps_it(
    _tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older inhouse's serve whose only workers were starting again as a sweep looked:
    each socket refused, and the folder was judged dead; then worker 0 binds its socket
    afresh, under the same name, before the sweep removes it. The sweep leaves the new
    socket (not the one it judged) and the folder with it: worker 0 listens on."""
    from inhouse.gateway import peers

    folder = _older(_tmp, "inhouse-gateway-restarting", "0.sock", "1.sock")
    judge = peers._unheld_and_dead
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as worker:

        def rebound(path: Path, fd: int) -> Any:
            dead = judge(path, fd)
            time.sleep(0.05)  # its socket was bound long before (a file's times tick coarsely)
            (path / "0.sock").unlink()
            worker.bind(str(path / "0.sock"))
            worker.listen()
            return dead

        monkeypatch.setattr(peers, "_unheld_and_dead", rebound)
        assert peers.sweep([_tmp]) == []
        assert [p.name for p in folder.iterdir()] == ["0.sock"]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as scrape:
            scrape.connect(str(folder / "0.sock"))  # worker 0 still answers there
