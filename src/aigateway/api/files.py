"""/v1/files: OpenAI's Files API (upload, list, retrieve, delete, download) in OpenAI's shapes.

Every key kind may use it (files are inputs to model work: batches, vision, ...). Files are per
account: another account's file id answers 404 exactly like a missing one, and a sub-account key
sees only the files it uploaded (the parent's keys see the whole account's).

Uploads are parsed here, after the key has been checked, from the raw stream: the multipart parser
spools the file part to a temporary file past 1 MiB, and the blob store copies it from there in
chunks, so a large upload is never held in memory (let alone twice). A body that grows past
``AIGATEWAY_MAX_FILE_BYTES`` (512 MiB by default) is refused with 413 as soon as it does, without
reading the rest; a declared Content-Length over it is refused before anything is read.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import AsyncGenerator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import Response, StreamingResponse

from aigateway.api.authz import KINDS, require
from aigateway.api.deps import context
from aigateway.api.management import answer, unix_s
from aigateway.core.errors import InvalidRequest, NotFound, PayloadTooLarge, ServiceUnavailable
from aigateway.services.auth import Principal
from aigateway.storage.files import MAX_LIST, PURPOSES, FileRecord, FileStore

router = APIRouter(tags=["files"])
FORM_SLACK = 64 * 1024  # multipart boundaries and the small fields around the file part
MIN_EXPIRY_S = 3600
MAX_EXPIRY_S = 30 * 24 * 3600


def render(record: FileRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "object": "file",
        "bytes": record.bytes,
        "created_at": unix_s(record.created_at),
        "expires_at": unix_s(record.expires_at) if record.expires_at else None,
        "filename": record.filename,
        "purpose": record.purpose,
        "status": record.status,
        "status_details": None,
    }


def _store(request: Request) -> FileStore:
    ctx = context(request)
    if ctx.blobs is None:
        raise ServiceUnavailable("This gateway has no blob store for files.")
    return FileStore(ctx.engine, ctx.blobs)


def _missing(file_id: str) -> NotFound:
    return NotFound(f"No such File object: {file_id[:100]}", param="id")


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The file is larger than this gateway's {limit - FORM_SLACK}-byte limit.")
        yield chunk


async def _form(request: Request, max_bytes: int) -> FormData:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise InvalidRequest("Upload a file as multipart/form-data with the fields 'file' and 'purpose'.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes + FORM_SLACK:
        raise PayloadTooLarge(f"The file is larger than this gateway's {max_bytes}-byte limit.")
    parser = MultiPartParser(
        request.headers, _limited(request, max_bytes + FORM_SLACK), max_files=1, max_fields=16
    )
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise InvalidRequest(f"The multipart body could not be read: {exc.message}") from None


def _expiry(form: FormData, now: datetime) -> datetime | None:
    anchor, seconds = form.get("expires_after[anchor]"), form.get("expires_after[seconds]")
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise InvalidRequest("'expires_after[anchor]' must be 'created_at'.", param="expires_after.anchor")
    if (
        not isinstance(seconds, str)
        or not seconds.isdigit()
        or not MIN_EXPIRY_S <= int(seconds) <= MAX_EXPIRY_S
    ):
        raise InvalidRequest(
            f"'expires_after[seconds]' must be {MIN_EXPIRY_S} to {MAX_EXPIRY_S}.",
            param="expires_after.seconds",
        )
    return now + timedelta(seconds=int(seconds))


@router.post("/v1/files")
async def create_file(request: Request, who: Annotated[Principal, Depends(require(*KINDS))]) -> Response:
    store = _store(request)
    max_bytes = context(request).settings.max_file_bytes
    form = await _form(request, max_bytes)
    try:
        upload, purpose = form.get("file"), form.get("purpose")
        if not isinstance(upload, UploadFile):
            raise InvalidRequest("Missing the file: send it as the multipart field 'file'.", param="file")
        if not isinstance(purpose, str) or purpose not in PURPOSES:
            raise InvalidRequest(f"'purpose' must be one of {', '.join(PURPOSES)}.", param="purpose")
        size = upload.size or 0
        if size > max_bytes:
            raise PayloadTooLarge(f"The file is larger than this gateway's {max_bytes}-byte limit.")
        filename = upload.filename or "file"
        content_type = upload.content_type or ""
        if not content_type or content_type == "application/octet-stream":
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        expires_at = _expiry(form, datetime.now(UTC))
        await upload.seek(0)
        record = await asyncio.to_thread(
            store.create,
            who.account_id,
            filename=filename,
            purpose=purpose,
            source=upload.file,
            size=size,
            content_type=content_type,
            sub_account_id=who.sub_account_id,
            expires_at=expires_at,
        )
    finally:
        await form.close()
    return answer(request, render(record))


def _page_args(request: Request) -> tuple[str | None, int, str | None, str]:
    params = request.query_params
    purpose = params.get("purpose") or None
    raw_limit = params.get("limit") or str(MAX_LIST)
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIST:
        raise InvalidRequest(f"'limit' must be 1 to {MAX_LIST}.", param="limit")
    order = params.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise InvalidRequest("'order' must be 'asc' or 'desc'.", param="order")
    return purpose, int(raw_limit), params.get("after") or None, order


@router.get("/v1/files")
async def list_files(request: Request, who: Annotated[Principal, Depends(require(*KINDS))]) -> Response:
    purpose, limit, after, order = _page_args(request)
    store = _store(request)
    records, has_more = await asyncio.to_thread(
        store.list,
        who.account_id,
        sub_account_id=who.sub_account_id,
        purpose=purpose,
        limit=limit,
        after=after,
        order=order,
    )
    body = {
        "object": "list",
        "data": [render(r) for r in records],
        "has_more": has_more,
        "first_id": records[0].id if records else None,
        "last_id": records[-1].id if records else None,
    }
    return answer(request, body)


@router.get("/v1/files/{file_id}")
async def retrieve_file(
    request: Request, file_id: str, who: Annotated[Principal, Depends(require(*KINDS))]
) -> Response:
    record = await asyncio.to_thread(_store(request).get, who.account_id, file_id, who.sub_account_id)
    if record is None:
        raise _missing(file_id)
    return answer(request, render(record))


@router.delete("/v1/files/{file_id}")
async def delete_file(
    request: Request, file_id: str, who: Annotated[Principal, Depends(require(*KINDS))]
) -> Response:
    if not await asyncio.to_thread(_store(request).delete, who.account_id, file_id, who.sub_account_id):
        raise _missing(file_id)
    return answer(request, {"id": file_id, "object": "file", "deleted": True})


@router.get("/v1/files/{file_id}/content")
async def file_content(
    request: Request, file_id: str, who: Annotated[Principal, Depends(require(*KINDS))]
) -> Response:
    store = _store(request)

    def open_file() -> tuple[FileRecord, Iterator[bytes]] | None:
        record = store.get(who.account_id, file_id, who.sub_account_id)
        chunks = store.content(record) if record else None
        return (record, chunks) if record and chunks is not None else None

    found = await asyncio.to_thread(open_file)
    if found is None:
        raise _missing(file_id)
    record, chunks = found
    headers = {
        "X-Request-Id": getattr(request.state, "request_id", ""),
        "Content-Length": str(record.bytes),
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(chunks, media_type=record.content_type, headers=headers)
