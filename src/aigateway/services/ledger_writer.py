"""Ledger entries are written off the response path: journalled, buffered in memory, flushed in batches.

A batch is written from a worker thread in one transaction with the wallet debits it implies
(storage.ledger explains how the write avoids stalling the loop: written inline, a flush cost the
event loop ~10 ms every 50 ms and showed as a p99 of 10 ms at concurrency 1). If storage falls behind
by more than ``high_water`` entries, new calls wait for it (backpressure) instead of memory growing
without bound. A failed write keeps the batch for the next attempt.

The journal is what makes a settled call survive a ``kill -9``. Each process appends every entry it
records, as one JSON line, to its current segment (the lines recorded in one event-loop iteration go
out in one unbuffered ``os.write`` when the iteration ends: measured, a write per call was the largest
single cost the journal added to a request)
``<journal_dir>/ledger-<pid>-<token>-<seq>.jsonl``, which it holds under an exclusive ``flock`` while
it lives. Each flush takes the buffer and switches to a fresh segment in one synchronous step, so
the sealed segments hold exactly the entries taken; they are unlinked once every one of those is
stored, and kept while storage refuses them. On start a process replays (idempotently, by call id)
every segment whose lock it can take, i.e. whose process is dead, and never one a live sibling worker
holds (``aigateway serve --workers N`` shares one data directory). A clean shutdown whose last flush
fails simply leaves the journal behind: it is the spill, replayed on the next start. Spill files of
earlier versions (``<data_dir>/spill/``) are replayed the same way.

The bound: ``os.write`` hands the lines to the OS page cache at the end of the event-loop iteration
that recorded them, and a killed process's page cache is not lost. A process crash can therefore
lose at most the entries of calls settled in the iteration it died in, whose answers may have been
handed to the socket in that same iteration (a window of microseconds, never the flush interval);
``fsync=True`` writes each line at once and waits for the disk. A machine crash or
power loss can lose what the OS had not yet written back (on Linux up to ~30 s,
``vm.dirty_expire_centisecs``) unless ``fsync=True``, which makes every ``record`` wait for the
disk (on the event loop: from ~0.1 ms on local NVMe to several ms on network disks).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import Engine

from aigateway.core.ledger import LedgerEntry
from aigateway.services.limits import ScopeLoader, SpendBook, period_key
from aigateway.storage.accounts import AccountStore
from aigateway.storage.ledger import LedgerSink, LedgerWriteResult

log = logging.getLogger("aigateway.ledger")
# A journal segment is handed over for unlinking once it holds this much (a replay after a crash then
# reads at most about this much of lines already stored).
ROTATE_BYTES = 4 * 1024 * 1024

SEGMENT_GLOB = "ledger-*.jsonl"
LEGACY_SPILL_GLOB = "ledger-spill-*.jsonl"


class _Segment:
    """A journal file and the open descriptor that holds its lock."""

    __slots__ = ("fd", "path", "unreadable")

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd
        self.unreadable = False  # some line could not be read back: keep the file for a person

    def release(self, *, unlink: bool) -> None:
        """Unlink (its entries are stored) or keep it; then drop the lock. Unlinking first means a
        process that opened the path meanwhile finds, once it gets the lock, that it is gone."""
        try:
            if unlink and self.unreadable:
                self.path.rename(self.path.with_name(self.path.name + ".unreadable"))
            elif unlink:
                self.path.unlink(missing_ok=True)
        except OSError:  # harmless: a later start replays it idempotently
            log.exception("cannot remove the stored ledger journal %s", self.path)
        finally:
            os.close(self.fd)


def _same_file(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _lock_dead(path: Path) -> _Segment | None:
    """Lock a journal file whose writer is gone; None if a live process holds it or it vanished."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    if not _same_file(path, fd):  # replayed and unlinked by another process while we waited
        os.close(fd)
        return None
    return _Segment(path, fd)


def _read_entries(segment: _Segment) -> list[LedgerEntry]:
    entries: list[LedgerEntry] = []
    for number, line in enumerate(segment.path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = orjson.loads(line)
            raw.setdefault("call_id", raw["request_id"])  # spill files from before call ids existed
            entries.append(LedgerEntry.from_json_dict(raw))
        except (ValueError, KeyError, TypeError):
            segment.unreadable = True
            log.error("journal %s line %d is unreadable (torn by a crash?): %r", segment.path, number, line)
    return entries


class LedgerJournal:
    """This process's append-only journal segments (see the module docstring)."""

    def __init__(self, directory: Path, *, fsync: bool = False, rotate_bytes: int = ROTATE_BYTES) -> None:
        self._rotate_bytes = rotate_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._fsync = fsync
        self._prefix = f"ledger-{os.getpid()}-{secrets.token_hex(4)}-"
        self._seq = 0
        self._live: list[_Segment] = []  # the segments holding the entries buffered since the last seal
        self._fd = -1
        self._live_bytes = 0
        self._closed = False
        self._open()

    def _new_segment(self) -> _Segment:
        while True:
            self._seq += 1
            path = self.directory / f"{self._prefix}{self._seq:08d}.jsonl"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
            fd = os.open(path, flags, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # a replaying sibling took the empty file in the instant before our lock
                continue
            if _same_file(path, fd):
                break
            os.close(fd)
        if self._fsync:
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return _Segment(path, fd)

    def _open(self) -> None:
        self._live_bytes = 0
        segment = self._new_segment()
        self._live.append(segment)
        self._fd = segment.fd

    @property
    def own(self) -> set[Path]:
        return {segment.path for segment in self._live}

    def append(self, line: bytes) -> None:
        """One unbuffered write of one line (the hot path: no lock, no flush, fsync only if asked)."""
        if self._closed:
            self._append_orphan(line)
            return
        try:
            written = os.write(self._fd, line)
            self._live_bytes += written
            if written != len(line):
                raise OSError(f"short write to the ledger journal ({written} of {len(line)} bytes)")
            if self._fsync:
                os.fsync(self._fd)
        except OSError:
            # Leave the torn segment behind a fresh one so later lines do not run into its tail.
            with contextlib.suppress(OSError):
                self._open()
            raise

    def _append_orphan(self, line: bytes) -> None:
        """An entry settled after shutdown: a file of its own, left for the next start to replay."""
        segment = self._new_segment()
        try:
            os.write(segment.fd, line)
            os.fsync(segment.fd)
        finally:
            segment.release(unlink=False)

    def seal(self, *, force: bool = False) -> list[_Segment]:
        """Switch to a fresh segment and hand over the ones written so far (synchronous on purpose:
        no entry can be recorded between the buffer being taken and this switch).

        A segment under ``ROTATE_BYTES`` is kept (unless ``force``): its lines' entries are taken
        with the batch all the same, and it is handed over with a later batch, which is stored after
        this one (batches are stored in order), so unlinking it then is still safe; a replay skips
        what is stored already. Measured: a fresh file, lock and unlink every flush (20 a second)
        cost the event loop more than writing the lines did.
        """
        if not force and self._live_bytes < self._rotate_bytes:
            return []
        sealed = self._live
        self._live = []
        try:
            self._open()
        except OSError:
            log.exception("cannot open a new ledger journal segment; the current one carries on")
            self._live = sealed
            return []
        return sealed

    def close(self, *, keep: bool) -> None:
        """Drop the locks; unlink this process's live segments unless they hold unstored entries."""
        self._closed = True
        self._fd = -1
        for segment in self._live:
            segment.release(unlink=not keep)
        self._live = []

    def adopt_dead(self, legacy_spill_dir: Path | None) -> list[tuple[_Segment, list[LedgerEntry]]]:
        """Lock and read every journal (and old spill) file whose process is gone."""
        paths = sorted(self.directory.glob(SEGMENT_GLOB))
        if legacy_spill_dir is not None and legacy_spill_dir.is_dir():
            paths += sorted(legacy_spill_dir.glob(LEGACY_SPILL_GLOB))
        own = self.own
        adopted: list[tuple[_Segment, list[LedgerEntry]]] = []
        for path in paths:
            if path in own:
                continue
            segment = _lock_dead(path)
            if segment is None:
                continue
            entries = _read_entries(segment)
            if entries:
                adopted.append((segment, entries))
            else:
                segment.release(unlink=True)
        return adopted


@dataclass(slots=True)
class _Group:
    """Entries taken together and the journal files that hold them (unlinked once all are stored)."""

    entries: list[LedgerEntry]
    segments: list[_Segment]
    replay: bool  # from a dead process: written idempotently, and not in this process's wallet book


class LedgerWriter:
    def __init__(
        self,
        engine: Engine,
        store: AccountStore,
        book: SpendBook,
        *,
        loader: ScopeLoader,
        sink: LedgerSink | None = None,
        interval_s: float,
        batch_size: int,
        journal_dir: Path,
        legacy_spill_dir: Path | None = None,
        high_water: int = 50_000,
        fsync: bool = False,
        rotate_bytes: int = ROTATE_BYTES,
    ) -> None:
        """``legacy_spill_dir`` defaults to ``spill/`` beside the journal (where earlier versions
        spilled at shutdown); ``fsync`` trades a disk wait per call for surviving a machine crash."""
        self._store = store
        self._book = book
        self._loader = loader
        self._interval = interval_s
        self._batch_size = batch_size
        self._legacy_spill_dir = legacy_spill_dir or journal_dir.parent / "spill"
        self._journal = LedgerJournal(journal_dir, fsync=fsync, rotate_bytes=rotate_bytes)
        self._sink = sink or LedgerSink(engine)
        self._high_water = high_water
        self._drained = asyncio.Event()
        self._drained.set()
        self._buffer: list[LedgerEntry] = []
        self._lines: list[bytes] = []  # journal lines of this event-loop iteration, not yet written
        self._write_scheduled = False
        self._fsync = fsync
        self._pending: deque[_Group] = deque()
        self._backlog = 0  # this process's entries recorded and not yet stored
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closing = False

    @property
    def journal_dir(self) -> Path:
        return self._journal.directory

    def record(self, entry: LedgerEntry) -> None:
        """Journal and queue an entry (synchronous, never blocks the request)."""
        try:
            # orjson writes the slots dataclass natively (datetimes as RFC 3339), ~4x faster than
            # building a dict first; LedgerEntry.from_json_dict reads either form back.
            self._lines.append(orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))
        except Exception:
            log.exception(
                "ledger entry %s not journalled: a crash before its flush would lose it", entry.call_id
            )
        if not self._write_scheduled:
            self._write_scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self._write_lines)
            except RuntimeError:  # no loop running (a synchronous caller): write now
                self._write_lines()
            if self._fsync:
                self._write_lines()
        self._buffer.append(entry)
        self._backlog += 1
        if len(self._buffer) >= self._batch_size:
            self._wake.set()
        if self._backlog >= self._high_water:
            self._drained.clear()

    async def wait_for_room(self) -> None:
        """Backpressure: returns at once unless storage is ``high_water`` entries behind."""
        if not self._drained.is_set():
            await self._drained.wait()

    async def start(self) -> None:
        """Replay what dead processes left in the journal, then flush every ``interval_s``."""
        adopted = await asyncio.to_thread(self._journal.adopt_dead, self._legacy_spill_dir)
        for segment, entries in adopted:
            log.warning("replaying %d ledger entries from %s", len(entries), segment.path)
            self._pending.append(_Group(entries, [segment], replay=True))
        if adopted:
            await self.flush()  # when storage refuses, the loop below keeps trying
        self._task = asyncio.create_task(self._run(), name="ledger-writer")

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()
            await self._refresh_stale()

    def _write_lines(self) -> None:
        """Hand the journal lines recorded so far to the OS, in one write."""
        self._write_scheduled = False
        if not self._lines:
            return
        data = b"".join(self._lines)
        count = len(self._lines)
        self._lines.clear()
        try:
            self._journal.append(data)
        except Exception:
            log.exception(
                "%d ledger entries not journalled: a crash before their flush would lose them", count
            )

    def _take(self) -> _Group:
        """The buffer and its journal segments, taken in one synchronous step."""
        self._write_lines()  # every taken entry's line is in the segment being sealed
        entries, self._buffer = self._buffer, []
        return _Group(entries, self._journal.seal(), replay=False)

    async def flush(self) -> bool:
        """Write everything buffered; returns False when storage refused (entries kept)."""
        while True:
            if not self._pending:
                if not self._buffer:
                    break
                self._pending.append(self._take())
            group = self._pending[0]
            while group.entries:
                batch = group.entries[: self._batch_size]
                try:
                    result = await asyncio.to_thread(self._sink.write, batch, idempotent=group.replay)
                except Exception:
                    log.exception("ledger flush of %d entries failed; will retry", len(batch))
                    return False
                del group.entries[: len(batch)]
                self._stored(batch, result, replay=group.replay)
            for segment in group.segments:
                segment.release(unlink=True)
            self._pending.popleft()
        self._drained.set()
        return True

    def _stored(self, batch: list[LedgerEntry], result: LedgerWriteResult, *, replay: bool) -> None:
        if result.duplicates or result.quarantined:
            log.warning(
                "ledger batch of %d: %d written, %d already stored, %d quarantined",
                len(batch),
                result.written,
                result.duplicates,
                result.quarantined,
            )
        if replay:
            # Not this process's debits: only the values it reads back are news to the spend book.
            self._book.refreshed_balances(result.balances)
            self._book.refreshed(
                {period_key(s, p): total for (s, p), (_added, total) in result.spent.items()}
            )
            return
        self._backlog -= len(batch)
        debits: dict[str, int] = defaultdict(int)
        for entry in batch:
            debits[entry.account_id] += entry.chargeable
        self._book.flushed(debits, result.balances, result.spent)
        if self._backlog < self._high_water // 2:
            self._drained.set()

    async def _refresh_stale(self) -> None:
        stale = self._book.stale()
        if not stale:
            return
        try:
            values = await self._loader(stale)
        except Exception:
            log.exception("spend book refresh failed")
            return
        # Flushes and refreshes run one after the other in this task, so the stored value read here
        # excludes exactly the entries still counted in `unflushed`: replacing it is safe.
        self._book.refreshed(values)

    async def close(self) -> None:
        """Flush; if storage is down, leave the journal (it is the spill) for the next start."""
        self._write_lines()
        self._closing = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        stored = await self.flush()
        if not stored:
            left = sum(len(group.entries) for group in self._pending) + len(self._buffer)
            log.error(
                "storage unavailable at shutdown: %d ledger entries stay in %s for the next start",
                left,
                self._journal.directory,
            )
        for group in self._pending:
            for segment in group.segments:
                segment.release(unlink=False)
        self._pending.clear()
        self._journal.close(keep=not stored)
