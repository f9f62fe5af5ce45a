"""The workers of one ``inhouse gateway serve --workers N`` answer ``/metrics`` together.

Each worker counts its own requests in its own memory (:class:`~inhouse.gateway.metrics.Metrics`,
plain numbers: the request path pays nothing more for there being several), and the kernel
hands each scrape to whichever worker accepts the connection. So the worker a scrape reaches
asks every other worker for its series, on a Unix socket each listens on in a folder its
supervisor made for this ``serve`` alone (mode 0700: only the user who runs the gateway may ask,
and so read each person's series), and answers with all of them, each labelled with its
``worker``. A worker that does not answer within :data:`ASK_SECONDS` (starting again, or
stuck) is left out of that scrape and counted in ``inhouse_gateway_workers_unanswered``.

The supervisor holds the folder's ``serve.lock`` locked while it runs (:func:`hold`; the kernel
lets go of it when the supervisor dies, ``kill -9`` too) and removes the folder on its way out.
One killed with ``kill -9`` with its workers left the folder and their sockets in the temporary
folder, for ever: a later ``serve`` removes each folder of its own user's whose supervisor holds
it no more (:func:`sweep`), never a link, another user's, one being made, nor a live serve's; and
one an older inhouse left (no ``serve.lock``) once it is old and nobody listens on its sockets,
on a filesystem of this machine's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["ASK_SECONDS", "PREFIX", "UNLOCKED_AFTER_SECONDS", "Peers", "hold", "sweep"]

log = logging.getLogger("inhouse.gateway")

#: how long a scrape waits on another worker's series
ASK_SECONDS = 2.0
_PEOPLE, _MODELS = b"people\n", b"models\n"
#: the last line of a worker's answer (a comment to Prometheus' text format): an answer cut
#: short, its worker killed while it wrote, is left out, not read as all its series (a line
#: cut in two failed the whole scrape; one cut at a line's end dropped series unseen)
_END = b"# inhouse: end of worker series\n"
#: how a serve's folder is named (:func:`tempfile.mkdtemp`'s prefix)
PREFIX = "inhouse-gateway-"
#: the file in a serve's folder its supervisor holds locked while it runs
_HELD = "serve.lock"
#: how long a serve's folder holding no ``serve.lock`` (an older inhouse's, or one where
#: nothing locks) stays unchanged, with nobody listening on its sockets, before a sweep takes it
UNLOCKED_AFTER_SECONDS = 600.0
#: a worker's socket in a serve's folder
_SOCKET = re.compile(r"[0-9]+\.sock")
#: where the kernel lists this process's mounts, each with its filesystem's type
_MOUNTS = "/proc/self/mountinfo"
#: the filesystems whose sockets only this machine's processes listen on: a socket on one
#: shared with other hosts (NFS, SMB, a VM's shared folder) refuses this host's connection
#: while a worker on the host that bound it listens there
_LOCAL_FILESYSTEMS = frozenset({
    "tmpfs", "ramfs", "ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "bcachefs",
    "overlay", "jfs", "reiserfs", "nilfs2",
})  # fmt: skip


def hold(folder: Path) -> int | None:
    """Mark ``folder`` (just made, 0700) as a live serve's: an exclusive ``flock`` on its
    ``serve.lock``, held by the returned descriptor (the supervisor's, for its life: not
    inherited by its workers). Locked before it takes its name, so no sweep ever finds a live
    serve's unlocked. Where the temporary folder locks nothing (``flock`` refused: ENOLCK on
    NFS without its lock daemon), None, and no ``serve.lock``: the serve runs (it would not
    start at all), its folder one no sweep takes, left behind only if it is killed."""
    fd, partial = tempfile.mkstemp(dir=folder, prefix=".serve-")  # 0600, not inheritable
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as err:
            log.warning("the gateway's folder %s cannot be locked as a live serve's, so no later "
                        "serve removes it if this one is killed: %s", folder, err)  # fmt: skip
            locked = False
        else:
            locked = True
            os.rename(partial, folder / _HELD)
    except BaseException:
        os.close(fd)
        Path(partial).unlink(missing_ok=True)
        raise
    if not locked:
        os.close(fd)
        Path(partial).unlink(missing_ok=True)
        return None
    return fd


def sweep(parents: Iterable[str | Path]) -> list[Path]:
    """Remove each serve's folder in ``parents`` (``inhouse-gateway-*``) that its supervisor
    left behind, killed with ``kill -9`` with its workers: the folders removed. Only a real
    folder (never a link) of this user's, reachable by nobody else (0700, as a serve makes it),
    holding a ``serve.lock`` (a regular file, not a link) that nobody holds locked, and no
    folder; one whose serve runs is left. A folder without one (a serve's being made, or an
    older inhouse's, which held none) is taken only where the temporary folder locks (so no
    serve of this inhouse runs there without one) and is this machine's own (no other host's
    serve listens there), once it has not changed for
    :data:`UNLOCKED_AFTER_SECONDS` and holds nothing but workers' sockets nobody listens on."""
    swept: list[Path] = []
    for parent in dict.fromkeys(str(p) for p in parents):
        try:
            names = sorted(os.listdir(parent))
        except OSError:
            continue
        for name in names:
            path = Path(parent) / name
            if name.startswith(PREFIX) and _sweep_one(path):
                swept.append(path)
    return swept


def _sweep_one(path: Path, *, alone: bool = False) -> bool:
    """Remove ``path`` where :func:`sweep` may (with ``alone``: only where nothing but its
    ``serve.lock`` is left in it, as the last worker out of a serve whose supervisor is gone
    finds it); whether it did. Every step on the folder opened once, never following a link."""
    try:
        folder = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False  # a link, not a folder, gone, or not ours to open
    try:
        found = os.fstat(folder)
        if found.st_uid != os.geteuid() or found.st_mode & 0o077:
            return False  # another user's, or not one a serve makes
        try:
            lock = os.open(_HELD, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
        except FileNotFoundError:
            # none: a serve's being made, a serve's where nothing locks (NFS), or an older
            # inhouse's, which no lock tells apart: taken only long after anyone listened there
            dead = None if alone else _unheld_and_dead(path, folder)
            if dead is None:
                return False
            _empty(folder, list(dead), dead)
        except OSError:
            return False  # a link, or not a file
        else:
            try:
                if not stat.S_ISREG(os.fstat(lock).st_mode):
                    return False
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False  # its supervisor runs
                names = os.listdir(folder)
                if alone and names != [_HELD]:
                    return False  # another worker's socket: the last one out removes it
                for name in names:
                    if stat.S_ISDIR(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode):
                        return False  # nothing a serve makes
                _empty(folder, names)
            finally:
                os.close(lock)
    except OSError:
        return False
    finally:
        os.close(folder)
    return _removed(path)


def _removed(path: Path) -> bool:
    """Whether ``path``, emptied, is removed now (by this sweep, not another's at once)."""
    try:
        os.rmdir(path)
    except OSError:  # gone (another serve's sweep, at once), or something made in it since
        return False
    return True


def _empty(folder: int, names: list[str], judged: dict[str, tuple[int, int]] | None = None) -> None:
    """Remove ``names`` from ``folder`` (open), the names a sweep looked at (anything made
    since is left, and keeps the folder), never following a link. ``judged``: the inode and
    change time each name was judged dead at; a name bound anew since (a worker started again
    binds its socket afresh, under the same name, perhaps on the inode just freed) is left, and
    keeps the folder. (One bound between that look and the unlink, a few instructions apart,
    no sweep can tell from the one it judged.)"""
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            if judged is not None:
                now = os.stat(name, dir_fd=folder, follow_symlinks=False)
                if (now.st_ino, now.st_ctime_ns) != judged[name]:
                    continue
            os.unlink(name, dir_fd=folder)


def _unheld_and_dead(path: Path, folder: int) -> dict[str, tuple[int, int]] | None:
    """The names ``path`` (open as ``folder``, this user's, 0700, holding no ``serve.lock``)
    holds where it is a folder a serve left that is gone; None where it may not be. Gone:
    unchanged for :data:`UNLOCKED_AFTER_SECONDS` (a serve's being made locks its folder at
    once; a worker started again binds its socket anew, as the supervisor starts it within a
    second), holding nothing but workers' sockets (``N.sock``, sockets: no link, no folder, no
    other file), each of which refuses a connection (nobody listens on it: a live worker
    accepts, however busy), and unchanged still once they have all been tried. Never where
    the temporary folder locks nothing (``flock`` refused: NFS without its lock daemon): a
    serve runs there with no ``serve.lock`` (:func:`hold`), perhaps on another host sharing
    the folder, whose workers' sockets refuse a connection from this one. Nor anywhere but on
    a filesystem of this machine's own (:data:`_LOCAL_FILESYSTEMS`, as the kernel's list of
    mounts names the folder's): on one other hosts share (NFS with its lock daemon) an older
    inhouse's live serve on another host holds no lock to tell, and its listening workers'
    sockets refuse this host's connection all the same. Each name comes with the inode and
    change time it was judged at."""
    if not _local(folder):
        return None
    try:
        fcntl.flock(folder, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(folder, fcntl.LOCK_UN)
    except OSError:
        return None
    try:
        before = os.fstat(folder)
        if time.time() - before.st_mtime < UNLOCKED_AFTER_SECONDS:
            return None
        names: dict[str, tuple[int, int]] = {}
        for name in os.listdir(folder):
            if not _SOCKET.fullmatch(name):
                return None
            found = os.stat(name, dir_fd=folder, follow_symlinks=False)
            if not stat.S_ISSOCK(found.st_mode):
                return None
            names[name] = (found.st_ino, found.st_ctime_ns)
        if not all(_refused(path / name) for name in names):
            return None
        after = os.fstat(folder)
    except OSError:
        return None
    if (after.st_mtime_ns, after.st_ino) != (before.st_mtime_ns, before.st_ino):
        return None
    return names


def _local(folder: int) -> bool:
    """Whether ``folder`` (open) is on a filesystem of this machine's own
    (:data:`_LOCAL_FILESYSTEMS`), as the kernel's list of mounts names the one its device is
    (every mount of that device: a folder bound elsewhere is the same filesystem). Where that
    list cannot be read or names the device nowhere (not Linux; a btrfs subvolume's own
    device), False: the sweep leaves what it cannot tell."""
    try:
        device = os.fstat(folder).st_dev
        with open(_MOUNTS, encoding="utf-8", errors="replace") as mounts:
            lines = mounts.read().splitlines()
    except OSError:
        return False
    wanted = f"{os.major(device)}:{os.minor(device)}"
    kinds = set()
    for line in lines:
        fields, _, rest = line.partition(" - ")
        parts = fields.split()
        if len(parts) > 2 and parts[2] == wanted and rest.split():
            kinds.add(rest.split()[0])
    return bool(kinds) and kinds <= _LOCAL_FILESYSTEMS


def _refused(where: Path) -> bool:
    """Whether the Unix socket at ``where`` refuses a connection: nobody listens on it. A
    connection made, a backlog full (a worker too busy to accept), or any other error: not
    refused, so kept."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.setblocking(False)
        try:
            sock.connect(str(where))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


class Peers:
    """This worker's socket in ``folder`` (``INDEX.sock``), and its way to the ``count`` - 1
    others'."""

    def __init__(self, folder: Path, index: int, count: int) -> None:
        self.folder = folder
        self.index = index
        self.count = count
        self._server: asyncio.AbstractServer | None = None
        #: the fan-out under way for a scrape, each person's series or not: scrapes that come
        #: while it is under way share it (a storm of scrapes asked every other worker once per
        #: scrape, on the event loops that answer requests)
        self._asking: dict[bool, asyncio.Future[tuple[list[bytes], int]]] = {}
        #: closing (the worker stops): a scrape asks nobody, and the rounds under way end
        self._closing = False

    def _path(self, index: int) -> Path:
        return self.folder / f"{index}.sock"

    async def start(self, render: Callable[[bool], bytes]) -> None:
        """Answer the other workers with ``render(people)``, this worker's own series."""

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                asked = await asyncio.wait_for(reader.readline(), ASK_SECONDS)
                if asked in (_PEOPLE, _MODELS):
                    writer.write(render(asked == _PEOPLE) + _END)
                    await writer.drain()
            except (OSError, TimeoutError):
                pass  # the asking worker gave up: nobody waits on the answer
            finally:
                writer.close()

        path = self._path(self.index)
        with contextlib.suppress(FileExistsError):
            self.folder.mkdir(mode=0o700)  # the last worker out removed it
        if (problem := self._not_ours()) is not None:
            log.warning("gateway worker %d does not answer the other workers' scrapes: %s",
                        self.index, problem)  # fmt: skip
            return
        path.unlink(missing_ok=True)  # this worker's, left by the one it replaces
        self._server = await asyncio.start_unix_server(answer, path=str(path))

    async def close(self) -> None:
        """Stop answering the other workers, and end the rounds of asking them under way: a
        scrape waiting on one is answered with this worker's series alone (the others counted
        as not answering), rather than holding the worker's shutdown on a stuck worker's
        socket, or leaving the round to be destroyed with the event loop."""
        self._closing = True
        rounds = list(self._asking.values())
        for under_way in rounds:
            under_way.cancel()
        if rounds:
            await asyncio.gather(*rounds, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), ASK_SECONDS)
            self._server = None
            self._path(self.index).unlink(missing_ok=True)
            # the last worker out removes the folder where its supervisor is gone (killed with
            # SIGKILL: it removes it on its way out otherwise), which left one behind in the
            # temporary folder; one no supervisor holds (none made it) once it is empty
            try:
                self.folder.rmdir()
            except OSError:
                _sweep_one(self.folder, alone=True)

    def _not_ours(self) -> str | None:
        """Why ``folder`` is not one only this user may reach (``None``: it is). It sits in the
        temporary folder, which every user may write: once the last worker out removed it,
        anyone could make it again (or a link of that name) before a worker started again,
        and then read each person's series from the sockets there, or answer in their place
        with series of their own."""
        try:
            found = os.lstat(self.folder)
        except OSError as err:
            return f"{self.folder}: {err.strerror or err}"
        if not stat.S_ISDIR(found.st_mode):
            return f"{self.folder} is not a folder (a link, or a file)"
        if found.st_uid != os.geteuid():
            return f"{self.folder} belongs to another user (uid {found.st_uid})"
        if found.st_mode & 0o077:
            return (f"{self.folder} may be reached by other users "
                    f"(mode {stat.S_IMODE(found.st_mode):o}, not 700)")  # fmt: skip
        return None

    async def ask(self, people: bool) -> tuple[list[bytes], int]:
        """Every other worker's series (each person's with ``people``), and how many did not
        answer. Scrapes that come while one is asking share its answers."""
        if self._closing:  # the worker stops: nobody is asked
            return [], self.count - 1
        under_way = self._asking.get(people)
        if under_way is None:
            under_way = asyncio.ensure_future(self._ask_all(people))
            self._asking[people] = under_way
            under_way.add_done_callback(lambda _: self._asking.pop(people, None))
        try:
            return await asyncio.shield(under_way)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not under_way.cancelled() or (task is not None and task.cancelling()):
                raise  # this scrape's own cancellation (its client went away)
            return [], self.count - 1  # the round ended by close(): nobody answered

    async def _ask_all(self, people: bool) -> tuple[list[bytes], int]:
        others = [index for index in range(self.count) if index != self.index]
        if self._not_ours() is not None:  # nothing read from, nor sent to, a folder not ours
            return [], len(others)
        answers = await asyncio.gather(*(self._ask(index, people) for index in others))
        said = [text for text in answers if text is not None]
        return said, len(answers) - len(said)

    async def _ask(self, index: int, people: bool) -> bytes | None:
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(ASK_SECONDS):
                reader, writer = await asyncio.open_unix_connection(str(self._path(index)))
                writer.write(_PEOPLE if people else _MODELS)
                await writer.drain()
                text = await reader.read()
        except (OSError, TimeoutError):
            return None  # not serving (starting again, or gone): left out of this scrape
        finally:
            if writer is not None:
                writer.close()
        if not text.endswith(_END):
            return None  # cut short: its worker ended while it answered
        return text[: -len(_END)]
