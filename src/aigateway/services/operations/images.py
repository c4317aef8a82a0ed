"""The image generation operation: POST /v1/images/generations in OpenAI's shape.

Request: ``model``, ``prompt``, ``n`` (1-10), ``size`` (``WxH`` or ``auto``), ``quality``, ``style``,
``response_format`` (``url`` or ``b64_json``), and OpenAI's ``background``, ``output_format``,
``output_compression``, ``moderation`` where the model takes them; unknown fields go to OpenAI-wire
upstreams as sent. Answer: OpenAI's ImagesResponse (``created``, ``data`` of ``url`` or
``b64_json`` and ``revised_prompt``, and ``usage`` for gpt-image).

After the adapter parsed the answer, ``finish`` does the I/O adapters may not: it polls a provider
that answers later (Black Forest Labs: ``poll_request``/``parse_poll`` over the call's own
transport, every ``image_poll_interval_s`` up to ``image_poll_timeout_s``, with an injectable sleep
and clock), downloads images a provider handed back as URLs (providers/fetch.py's guarded fetcher;
test keys through the simulated transport), and answers in the client's ``response_format``: base64,
or a URL on the gateway itself (the blob store, storage/blobs.py, signed, valid for
``image_url_ttl_s``), never a provider's short-lived URL. Billing: ``per_image`` times the images
returned, and tokens where the model is priced in them (gpt-image's ``usage``, Gemini's text).

Images the provider made but the gateway could not deliver (their URL could not be downloaded, the
blob store refused them) were still charged to us by the provider: ``ImagesNotDelivered`` carries
that usage, and the pipeline settles the call as an error (502) that is billed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from aigateway.core.catalog import ModelEntry
from aigateway.core.errors import GatewayError, InvalidRequest, ProviderError, UpstreamTimeout
from aigateway.core.pricing import Usage
from aigateway.providers.fetch import FetchRefused
from aigateway.providers.wire.base import TranslatedResponse, UpstreamRequest
from aigateway.providers.wire.images import parse_size
from aigateway.providers.wire.images_native import sniff_image
from aigateway.services.dispatch import read_failure, upstream_error
from aigateway.services.operations.chat_schema import validate_model
from aigateway.services.operations.counting import estimate_text_tokens, text_bytes

if TYPE_CHECKING:
    from aigateway.services.pipeline import Finishing

MAX_IMAGES = 10
DEFAULT_BOUND_SIZE = (1536, 1024)  # "auto": OpenAI's largest standard size
DOWNLOAD = "image_download"  # the operation of a test-mode download through the simulated transport
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


class ImagesRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str = Field(min_length=1, max_length=256)
    prompt: str = Field(min_length=1, max_length=32000)
    n: int | None = Field(default=None, ge=1, le=MAX_IMAGES)
    size: str | None = Field(default=None, max_length=16, pattern=r"^(auto|\d{2,5}x\d{2,5})$")
    quality: str | None = Field(default=None, max_length=16)
    style: str | None = Field(default=None, max_length=16)
    response_format: Literal["url", "b64_json"] | None = None
    background: Literal["transparent", "opaque", "auto"] | None = None
    output_format: Literal["png", "jpeg", "webp"] | None = None
    output_compression: int | None = Field(default=None, ge=0, le=100)
    moderation: Literal["low", "auto"] | None = None
    user: str | None = Field(default=None, max_length=256)


def output_tokens_bound(size: str | None) -> int:
    """Most output tokens a token-billed model (gpt-image) can spend on one image of ``size``:
    twice OpenAI's published counts (4160 for a high-quality 1024x1024, 6240 for 1536x1024)."""
    width, height = parse_size(size) or DEFAULT_BOUND_SIZE
    return max(1024, width * height // 128)


Sleep = Callable[[float], Awaitable[None]]


class ImagesNotDelivered(ProviderError):
    """The provider generated (and charged for) the images; the gateway could not hand them over.

    ``usage`` is what the provider's answer metered: ``Gateway.call`` settles the call with it, so
    the ledger row is an error that carries the cost the provider billed.
    """

    def __init__(self, message: str, usage: Usage) -> None:
        super().__init__(message)
        self.usage = usage


class ImagesOperation:
    name = "images"
    endpoint = "images.generations"
    modalities = frozenset({"image"})
    streams = False
    multipart = False
    public_urls = True  # its `url` answers point at this gateway: the shell records the request's host

    def __init__(self, sleep: Sleep = asyncio.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.sleep = sleep
        self.clock = clock

    def validate(self, body: Any) -> ImagesRequest:
        return validate_model(ImagesRequest, body)

    def wants_stream(self, parsed: ImagesRequest) -> bool:
        return False

    def check(self, entry: ModelEntry, req: ImagesRequest) -> None:
        if req.size is not None and req.size != "auto":
            width, height = parse_size(req.size) or (0, 0)
            if not (64 <= width <= 8192 and 64 <= height <= 8192):
                raise InvalidRequest(
                    f"Invalid 'size': {req.size} is outside 64x64 to 8192x8192.", param="size"
                )

    def bound(self, entry: ModelEntry, body: dict[str, Any], req: ImagesRequest) -> Usage:
        n = req.n or 1
        return Usage(
            input_tokens=max(1, text_bytes([req.prompt])),
            output_tokens=n * output_tokens_bound(req.size),
            output_images=n,
        )

    def lower_output(self, body: dict[str, Any], tokens: int, vendor: str) -> bool:
        return False

    def counted(self, body: dict[str, Any], generated: int) -> Usage:
        n = body["n"] if isinstance(body.get("n"), int) else 1
        prompt = body["prompt"] if isinstance(body.get("prompt"), str) else ""
        return Usage(input_tokens=estimate_text_tokens([prompt]), output_images=n, estimated=True)

    # -- after the adapter: poll, download, store --------------------------------------------------
    async def finish(self, translated: TranslatedResponse, f: Finishing) -> TranslatedResponse:
        doc = orjson.loads(translated.body)
        usage = translated.usage
        if "pending" in doc:
            doc, usage = await self._poll(doc, f)
        items = doc.get("data") or []
        if not items:
            raise ProviderError(f"Provider '{f.route.vendor.name}' answered without an image.")
        usage = _with_images(usage, len(items))
        try:
            doc["data"] = await self._deliver(items, f)
        except Exception as exc:
            reason = exc.message if isinstance(exc, GatewayError) else f"{type(exc).__name__}: {exc}"
            raise ImagesNotDelivered(
                f"Provider '{f.route.vendor.name}' generated {len(items)} image(s) the gateway could not "
                f"deliver ({reason.rstrip('.')}). The provider charged for them, so this call is billed "
                f"(call {f.call.call_id}).",
                usage,
            ) from exc
        return TranslatedResponse(orjson.dumps(doc), usage, translated.upstream_id)

    async def _deliver(self, items: list[Any], f: Finishing) -> list[dict[str, Any]]:
        """Each answered image in the client's ``response_format``: base64, or a gateway URL."""
        wanted = f.request.context.get("response_format", "url")
        data = []
        for index, item in enumerate(items):
            raw, media_type = await self._image(item, f)
            out: dict[str, Any] = {}
            if wanted == "b64_json":
                out["b64_json"] = base64.b64encode(raw).decode("ascii")
            else:
                out["url"] = await self._store(f, index, raw, media_type)
            if isinstance(item.get("revised_prompt"), str):
                out["revised_prompt"] = item["revised_prompt"]
            data.append(out)
        return data

    async def _poll(self, doc: dict[str, Any], f: Finishing) -> tuple[dict[str, Any], Usage | None]:
        settings = f.ctx.settings
        adapter: Any = f.route.adapter
        deadline = self.clock() + settings.image_poll_timeout_s
        vendor = f.route.vendor
        while "pending" in doc:
            if self.clock() >= deadline:
                limit = settings.image_poll_timeout_s
                raise UpstreamTimeout(f"Provider '{vendor.name}' did not finish the image in {limit:g} s.")
            await self.sleep(settings.image_poll_interval_s)
            pending = doc["pending"]
            request = adapter.poll_request(pending, f.request, vendor, f.route.credential)
            response = await f.transport.send(vendor, request)
            if response.status >= 400:
                raw = await read_failure(response)
                raise upstream_error(
                    vendor, adapter, response.status, raw, response.headers, f.route.credential
                )
            try:
                raw = await response.read()
            finally:
                response.release()
            try:
                translated = adapter.parse_poll(raw, request, pending)
            except GatewayError:
                raise
            except Exception as exc:
                raise ProviderError(
                    f"Provider '{vendor.name}' sent a task status the gateway cannot read."
                ) from exc
            doc = orjson.loads(translated.body)
            usage = translated.usage
        return doc, usage

    async def _image(self, item: Any, f: Finishing) -> tuple[bytes, str]:
        """The bytes and media type of one answered image (base64, or a URL the gateway downloads)."""
        vendor = f.route.vendor.name
        if isinstance(item, dict) and isinstance(item.get("b64_json"), str):
            try:
                raw = base64.b64decode(item["b64_json"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ProviderError(f"Provider '{vendor}' sent an image that is not valid base64.") from exc
            return raw, sniff_image(raw) or "image/png"
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str):
            raise ProviderError(f"Provider '{vendor}' sent an image with neither b64_json nor url.")
        if f.call.principal.is_test:
            raw, declared = await self._download_simulated(url, f)
        else:
            fetcher = f.ctx.fetcher
            if fetcher is None:
                raise ProviderError("The gateway has no fetcher for provider image URLs.")
            try:
                fetched = await fetcher.get(url)
            except FetchRefused as exc:
                raise ProviderError(
                    f"Provider '{vendor}' answered with an image URL the gateway could not fetch ({exc}); "
                    "no image to return."
                ) from None
            raw, declared = fetched.data, fetched.content_type
        media_type = sniff_image(raw)
        if media_type is None:
            raise ProviderError(
                f"Provider '{vendor}' answered with an image URL that is not an image ({declared})."
            )
        return raw, media_type

    @staticmethod
    async def _download_simulated(url: str, f: Finishing) -> tuple[bytes, str]:
        request = UpstreamRequest(
            url=url, headers={}, body=None, method="GET", wire=f.route.vendor.wire, operation=DOWNLOAD
        )
        response = await f.transport.send(f.route.vendor, request)
        try:
            raw = await response.read()
        finally:
            response.release()
        if response.status != 200:
            raise ProviderError(
                f"Provider '{f.route.vendor.name}' answered with an image URL the gateway could not fetch "
                f"(HTTP {response.status}); no image to return."
            )
        return raw, response.content_type

    @staticmethod
    async def _store(f: Finishing, index: int, raw: bytes, media_type: str) -> str:
        blobs = f.ctx.blobs
        if blobs is None:
            raise ProviderError(
                "The gateway has no blob store for image URLs; ask for response_format b64_json."
            )
        key = f"images/{f.call.call_id}/{index}.{_EXTENSIONS.get(media_type, 'bin')}"
        await asyncio.to_thread(blobs.put, key, raw, media_type)
        return blobs.url(key, f.ctx.settings.image_url_ttl_s)


def _with_images(usage: Usage | None, images: int) -> Usage:
    """The provider's usage with the images it generated (what it bills per image)."""
    base = usage or Usage()
    return Usage(**{**{k: getattr(base, k) for k in Usage.__slots__}, "output_images": images})
