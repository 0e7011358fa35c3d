"""The frames of a beamline series: which files, in which order, and when each is whole.

PDFgetX3 and xPDFsuite write one reduced ``.gr`` per frame into a folder while an
experiment runs. This module lists such a folder in natural order (``frame_2`` before
``frame_10``), follows it with the ``watchdog`` library (inotify, FSEvents, …; its
``PollingObserver`` on network file systems, where change notifications do not
arrive) and hands out a file only when it is complete: its size and modification time
have not changed for ``settle`` seconds and :func:`~deepstruc_gui.science.pdf_io.read_pdf`
parses it without the file changing under the read.

Files are only ever opened for reading (``read_pdf`` reads the bytes and closes): the
folder's files are never written, renamed or locked.
"""

from __future__ import annotations

import fnmatch
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from deepstruc_gui.science.pdf_io import PDFData, PDFReadError, read_pdf

#: file systems whose change notifications do not reach this machine: watched by polling
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "lustre", "gpfs",
     "fuse.gvfsd-fuse", "ceph", "glusterfs", "beegfs", "davfs"}
)  # fmt: skip


def natural_key(name: str) -> tuple:
    """Sort key that orders the digits in a name by value: ``frame_2`` < ``frame_10``.

    Case is ignored; the full name breaks ties so the order is total.
    """
    parts = re.split(r"(\d+)", name.casefold())
    return (tuple((1, int(p), "") if p.isdigit() else (0, 0, p) for p in parts), name)


def matches(path: Path, pattern: str) -> bool:
    """True for a visible file name matching the shell ``pattern`` (case-sensitive
    where the file system is). Hidden names (``.x.gr.tmp`` of atomic writers) never do."""
    return not path.name.startswith(".") and fnmatch.fnmatch(path.name, pattern)


def list_frames(folder: str | os.PathLike[str], pattern: str = "*.gr") -> list[Path]:
    """The regular files of ``folder`` (not its sub-folders) matching ``pattern``, in
    natural order. Raises ``NotADirectoryError`` / ``FileNotFoundError`` for a bad folder."""
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    found = [p for p in folder.iterdir() if matches(p, pattern) and p.is_file()]
    return sorted(found, key=lambda p: natural_key(p.name))


def filesystem_type(path: str | os.PathLike[str]) -> str | None:
    """The type (``ext4``, ``nfs4``, …) of the mount holding ``path`` from
    ``/proc/mounts``; None where that file does not exist (macOS, Windows)."""
    try:
        with open("/proc/mounts", encoding="utf-8", errors="replace") as fh:
            mounts = [line.split()[:3] for line in fh]
    except OSError:
        return None
    target = os.path.realpath(path)
    best, kind = "", None
    for entry in mounts:
        if len(entry) < 3:
            continue
        point = entry[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, entry[2]
    return kind


def needs_polling(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` lies on a network file system (see ``NETWORK_FILESYSTEMS``)."""
    return (filesystem_type(path) or "") in NETWORK_FILESYSTEMS


@dataclass(frozen=True)
class Stamp:
    """Size (bytes) and modification time (ns) of a file: it changed when these did."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Stamp | None:
        """The file's stamp, or None when it cannot be read (vanished, no permission)."""
        try:
            info = path.stat()
        except OSError:
            return None
        return cls(info.st_size, info.st_mtime_ns)


@dataclass
class Ready:
    """A frame handed out: its path, its stamp, and the data or the reason it is unusable."""

    path: Path
    stamp: Stamp
    data: PDFData | None
    error: str | None = None


class FrameTracker:
    """Decides when each file of the folder is complete, and hands each version out once.

    ``settle`` (s): how long size and mtime must stay unchanged, timed by ``clock`` from
    when this tracker first saw them (a file server's clock may differ from ours); for
    files there at the start, from their modification time, so a finished series is
    read at once. A settled file is complete when, besides, it ends with a line end and
    :func:`read_pdf` parses it without it changing during the read. ``give_up`` (s): a
    settled file that does not end a line is read anyway, and one that does not parse
    is reported with the reader's error, once it has been unchanged this long (a writer
    may pause between chunks); a later change makes it a new version, tracked again.
    ``clock``: seconds, wall time (it is
    compared with file modification times).
    """

    def __init__(
        self, settle: float = 1.0, give_up: float = 5.0, clock: Callable[[], float] = time.time
    ) -> None:
        if settle < 0 or give_up < settle:
            raise ValueError(f"need 0 ≤ settle ≤ give_up, not settle {settle}, give_up {give_up}")
        self.settle = settle
        self.give_up = give_up
        self.clock = clock
        #: path -> (stamp last seen, clock time it was first seen with that stamp)
        self._pending: dict[Path, tuple[Stamp, float] | None] = {}
        self._done: dict[Path, Stamp] = {}
        self._listed: set[Path] = set()

    def add(self, path: Path, listed: bool = False) -> None:
        """A file appeared or changed: ``listed`` when it was there at the start (then an
        old modification time counts as settled), else reported by a watcher."""
        if path not in self._done or self._done[path] != Stamp.of(path):
            self._pending.setdefault(path, None)
            if listed:
                self._listed.add(path)

    @property
    def pending(self) -> list[Path]:
        """Files seen but not yet settled, in natural (frame-number) order."""
        return sorted(self._pending, key=lambda p: natural_key(p.name))

    def poll(self) -> list[Ready]:
        """The pending files that became complete (or hopeless), in natural order."""
        out = []
        now = self.clock()
        for path in self.pending:
            stamp = Stamp.of(path)
            if stamp is None:  # deleted before it was read
                del self._pending[path]
                continue
            if stamp == self._done.get(path):
                del self._pending[path]
                continue
            seen = self._pending[path]
            if seen is None or seen[0] != stamp:
                since = now
                if seen is None and path in self._listed:  # there before we started
                    since = min(now, stamp.mtime_ns / 1e9)
                seen = self._pending[path] = (stamp, since)
            # timed by our clock (a file server's may differ), except for listed files
            age = now - seen[1]
            if age < self.settle:
                continue
            ready = self._read(path, stamp, age)
            if ready is not None:
                del self._pending[path]
                self._listed.discard(path)
                self._done[path] = ready.stamp
                out.append(ready)
        return out

    def _read(self, path: Path, stamp: Stamp, age: float) -> Ready | None:
        if age < self.give_up and not _ends_with_newline(path):
            return None  # a writer's buffer ends mid-line: the rest is on its way
        try:
            data = read_pdf(path)
            error = None
        except PDFReadError as exc:
            data, error = None, str(exc)
        if Stamp.of(path) != stamp:  # changed while it was read: not complete yet
            return None
        if error is not None and age < self.give_up:
            return None  # perhaps a writer that paused; ask again later
        return Ready(path, stamp, data, error)


def _ends_with_newline(path: Path) -> bool:
    """True when the file's last byte is a line end, as every line-based PDF writer
    leaves it; a flush in the middle of a line does not."""
    try:
        with open(path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) in (b"\n", b"\r")
    except OSError:  # empty, or vanished
        return False


class FolderWatcher:
    """Collects the paths of files created, modified or moved into ``folder``.

    Uses watchdog's native observer, or its ``PollingObserver`` (every ``interval`` s)
    when ``polling`` is True, when the folder is on a network file system
    (:func:`needs_polling`), or when the native one cannot start (e.g. the inotify
    watch limit). Use as a context manager; :meth:`changes` drains what arrived.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        pattern: str = "*.gr",
        polling: bool | None = None,
        interval: float = 0.5,
    ) -> None:
        self.folder = Path(folder)
        self.pattern = pattern
        self.polling = needs_polling(self.folder) if polling is None else polling
        self.interval = interval
        self._queue: queue.Queue[Path] = queue.Queue()
        self._observer = None

    def start(self) -> FolderWatcher:
        """Start watching and return self: the native observer, or the polling one when
        asked, on a network file system, or when the native one raises ``OSError``."""
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        handler = _Handler(self._queue, self.pattern)
        if not self.polling:
            try:
                observer = Observer()
                observer.schedule(handler, str(self.folder), recursive=False)
                observer.start()
                self._observer = observer
                return self
            except OSError:
                self.polling = True
        observer = PollingObserver(timeout=self.interval)
        observer.schedule(handler, str(self.folder), recursive=False)
        observer.start()
        self._observer = observer
        return self

    def stop(self) -> None:
        """Stop the observer and wait up to 5 s for its thread."""
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    def __enter__(self) -> FolderWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def changes(self, timeout: float = 0.0) -> set[Path]:
        """Paths reported since the last call; waits up to ``timeout`` s for the first."""
        out: set[Path] = set()
        try:
            out.add(self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait())
            while True:
                out.add(self._queue.get_nowait())
        except queue.Empty:
            pass
        return out


class _Handler:
    """A watchdog event handler (duck-typed ``dispatch``): created, modified, closed
    after writing and moved-in files that match the pattern go to the queue."""

    KINDS = frozenset({"created", "modified", "moved", "closed"})

    def __init__(self, sink: queue.Queue[Path], pattern: str) -> None:
        self.sink = sink
        self.pattern = pattern

    def dispatch(self, event) -> None:
        """Queue the path of a matching file event; directories and other kinds are ignored."""
        if event.is_directory or event.event_type not in self.KINDS:
            return
        raw = event.dest_path if event.event_type == "moved" else event.src_path
        path = Path(os.fsdecode(raw))
        if matches(path, self.pattern):
            self.sink.put(path)


def iter_ready(
    folder: str | os.PathLike[str],
    pattern: str = "*.gr",
    watch: bool = False,
    stop: threading.Event | None = None,
    settle: float = 1.0,
    give_up: float = 5.0,
    polling: bool | None = None,
) -> Iterator[Ready]:
    """Every complete frame of ``folder``, once per version, in natural order.

    Without ``watch`` the files present now are handed out (waiting for any still being
    written) and the iteration ends. With ``watch`` it goes on with each new or changed
    file until ``stop`` is set. Raises ``FileNotFoundError``/``NotADirectoryError`` for
    a bad folder.
    """
    stop = stop or threading.Event()
    tracker = FrameTracker(settle, give_up)
    watcher = FolderWatcher(folder, pattern, polling).start() if watch else None
    try:
        for path in list_frames(folder, pattern):  # after the watcher: nothing is missed
            tracker.add(path, listed=True)
        while not stop.is_set():
            yield from tracker.poll()
            if watcher is None and not tracker.pending:
                return
            wait = min(0.25, max(settle / 4, 0.02))
            if watcher is None:
                stop.wait(wait)
                continue
            for path in watcher.changes(timeout=wait):
                tracker.add(path)
    finally:
        if watcher is not None:
            watcher.stop()
