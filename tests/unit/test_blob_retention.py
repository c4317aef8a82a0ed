"""The local store's retention sweep only touches what it is told to (images), never files."""

from __future__ import annotations

import os
import time
from pathlib import Path

from aigateway.storage.blobs import LocalBlobStore, UrlSigner


def test_the_sweep_keeps_blobs_outside_its_prefix(tmp_path: Path) -> None:
    store = LocalBlobStore(
        tmp_path, UrlSigner(b"s" * 32), None, "http://h", retain_s=60, retain_prefix="images"
    )
    store.put("images/call/0.png", b"old image", "image/png")
    store.put("files/acct/file-1", b"old file", "application/jsonl")
    old = time.time() - 3600
    for path in tmp_path.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    assert store.sweep() == 1
    assert store.get("images/call/0.png") is None
    assert store.get("files/acct/file-1") == (b"old file", "application/jsonl")
