"""The gateway's memory: which pid really serves the port, and its resident set size from /proc."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for line in fh.readlines()[1:]:
                cols = line.split()
                if cols[1].endswith(f":{port:04X}") and cols[3] == "0A":  # 0A = LISTEN
                    inodes.add(cols[9])
    return inodes


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def _holds_socket(pid: int, inodes: set[str]) -> bool:
    wanted = {f"socket:[{inode}]" for inode in inodes}
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in wanted:
                    return True
    return False


def server_pid(pid: int, port: int) -> tuple[int, str]:
    """The pid that serves `port` (with --workers 1, the `aigateway serve` process itself) and how we know."""
    inodes = _listening_inodes(port)
    kids = _descendants(pid)
    if _holds_socket(pid, inodes) and not kids:
        return pid, f"verified: pid {pid} (`aigateway serve`) holds the listening socket and has no children"
    for kid in kids:
        if _holds_socket(kid, inodes):
            return kid, f"pid {kid}, a child of `aigateway serve` ({pid}), holds the listening socket"
    return pid, f"NOT verified: no process found holding port {port}; reading `aigateway serve` ({pid})"


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError as exc:
        raise RuntimeError(f"cannot read the RSS of pid {pid} (did the gateway exit?): {exc}") from exc
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for pid {pid}")
