"""Image generation in the simulator: the server's routes, and the in-process handlers for test keys.

Server routes (any path prefix):

* ``POST .../images/generations`` (OpenAI wire): synth_images' answer; ``response_format: url`` (the
  dall-e default) answers a URL on the simulator itself (``GET /_sim/images/{name}``) that serves
  the PNG, like a provider's blob URL; ``rec:<key>`` replays a recording
  (``rec:openai/images-generations-url``, ``rec:openai/images-generations-error-400``).
* Imagen: ``POST .../models/{model}:predict`` (``x-goog-api-key``), synth_images' predictions.
* Black Forest Labs under a prefix containing ``bfl``: ``POST .../bfl/v1/{model}`` (key in
  ``x-key``) answers ``{"id", "polling_url"}``; ``GET .../bfl/v1/get_result?id=`` answers
  ``Pending`` once, then ``Ready`` with a ``sample`` URL on the simulator.

`simulated_handlers(make)` gives SimulatedTransport's handlers for the images wires (OpenAI, Gemini
and Imagen, BFL submit and poll, Cloudflare), and the ``image_download`` of a URL they answered
(the gateway downloads provider URLs of test-mode calls through the same transport). Served images
are kept in a small bounded store.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
from aiohttp import web

from aigateway.simulators import gemini_wire, synth_images
from aigateway.simulators.answers import Answer, detail_error, gemini_error, openai_error
from aigateway.simulators.json_endpoint import OPENAI, JsonWire, fault_message, serve

IMAGES_PATH = r"/{prefix:(?:.*/)?}images/generations"
BFL_SUBMIT = r"/{prefix:(?:.*/)?}bfl/v1/{model:[A-Za-z0-9._-]+}"
BFL_RESULT = r"/{prefix:(?:.*/)?}bfl/v1/get_result"
IMAGEN_PATH = r"/{prefix:(?:.*/)?}models/{model:[^/:]+}:predict"
SERVED = "/_sim/images/{name}"
KEEP = 256
SIM_ORIGIN = "https://images.simulated.invalid"  # the in-process provider's URLs (never on a network)
_GOOGLE = re.compile(r"/models/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)$")


class ImageStore:
    """The last KEEP images served by URL, and BFL tasks with how often each was polled."""

    def __init__(self) -> None:
        self.images: OrderedDict[str, bytes] = OrderedDict()
        self.tasks: OrderedDict[str, list[Any]] = OrderedDict()

    def keep(self, image: bytes) -> str:
        name = hashlib.sha256(image).hexdigest()[:32] + ".png"
        self.images[name] = image
        self.images.move_to_end(name)
        while len(self.images) > KEEP:
            self.images.popitem(last=False)
        return name

    def task(self, task_id: str, image: bytes) -> None:
        self.tasks[task_id] = [image, 0]
        while len(self.tasks) > KEEP:
            self.tasks.popitem(last=False)

    def poll(self, task_id: str, origin: str) -> Answer:
        """Pending on the first poll, then Ready with the sample's URL."""
        entry = self.tasks.get(task_id)
        if entry is None:
            return Answer(200, {"id": task_id, "status": "Task not found", "result": None})
        entry[1] += 1
        if entry[1] == 1:
            return Answer(200, {"id": task_id, "status": "Pending", "result": None, "progress": 0.5})
        sample = f"{origin}/_sim/images/{self.keep(entry[0])}"
        return Answer(200, {"id": task_id, "status": "Ready", "result": {"sample": sample}})


def bfl_submit(store: ImageStore, body: Any, model: str, result_base: str) -> Answer:
    problem = synth_images.bfl_check(body)
    if problem is not None:
        return detail_error(422, problem)
    task_id = synth_images.bfl_task_id(model, body)
    store.task(task_id, synth_images.bfl_image(model, body))
    return Answer(200, {"id": task_id, "polling_url": f"{result_base}/get_result?id={task_id}"})


# -- the server ---------------------------------------------------------------------------------------
STORE_KEY = web.AppKey("images_store", ImageStore)
BFL = JsonWire(
    "bfl",
    lambda status: orjson.dumps(detail_error(status, fault_message(status)).payload),
    detail_error(403, "Not authenticated - Invalid Authentication"),
    lambda model: detail_error(404, f"Model {model} not found."),
    authorized=lambda request: bool(request.headers.get("x-key", "").strip()),
)


GOOGLE = JsonWire(
    "gemini",
    gemini_wire.default_error_body,
    gemini_error(403, gemini_wire.NO_KEY),
    lambda model: gemini_error(404, f"models/{model} is not found for API version v1beta."),
    authorized=lambda request: bool(request.headers.get("x-goog-api-key") or request.query.get("key")),
)


def register(app: web.Application) -> None:
    """Registered before gemini_wire: its ``models/{target}`` route would take ``:predict`` too."""
    app[STORE_KEY] = ImageStore()
    app.router.add_post(IMAGEN_PATH, imagen)
    app.router.add_get(SERVED, served)
    app.router.add_get(BFL_RESULT, bfl_result)
    app.router.add_post(BFL_SUBMIT, bfl_post)
    app.router.add_post(IMAGES_PATH, generations)


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def generations(request: web.Request) -> web.StreamResponse:
    store, origin = request.app[STORE_KEY], _origin(request)
    return await serve(
        request,
        OPENAI,
        lambda body: synth_images.openai_images(body, lambda png: f"{origin}/_sim/images/{store.keep(png)}"),
    )


async def imagen(request: web.Request) -> web.StreamResponse:
    model = request.match_info["model"]
    return await serve(request, GOOGLE, lambda body: synth_images.imagen_predict(body, model), model=model)


async def bfl_post(request: web.Request) -> web.StreamResponse:
    model = request.match_info["model"]
    if model == "get_result":
        raise web.HTTPMethodNotAllowed("POST", ["GET"])
    base = _origin(request) + "/" + request.match_info.get("prefix", "") + "bfl/v1"
    store = request.app[STORE_KEY]
    return await serve(request, BFL, lambda body: bfl_submit(store, body, model, base), model=model)


async def bfl_result(request: web.Request) -> web.Response:
    if not BFL.authorized(request):
        answer = BFL.unauthorized
    else:
        answer = request.app[STORE_KEY].poll(request.query.get("id", ""), _origin(request))
    return web.Response(
        status=answer.status, body=orjson.dumps(answer.payload), content_type="application/json"
    )


async def served(request: web.Request) -> web.Response:
    image = request.app[STORE_KEY].images.get(request.match_info["name"])
    if image is None:
        return web.Response(status=404, text="BlobNotFound")
    return web.Response(body=image, content_type="image/png")


# -- in process (SimulatedTransport) -------------------------------------------------------------------
def simulated_handlers(make: Callable[..., Any]) -> dict[tuple[str, str], Callable[[Any, Any], Any]]:
    """The images handlers of SimulatedTransport; ``make(status, pieces, content_type)`` builds a response."""
    store = ImageStore()

    def answer(result: Answer) -> Any:
        return make(result.status, (orjson.dumps(result.payload),))

    def openai(request: Any, body: Any) -> Any:
        return answer(synth_images.openai_images(body, lambda png: f"{SIM_ORIGIN}/openai/{store.keep(png)}"))

    def google(request: Any, body: Any) -> Any:
        found = _GOOGLE.search(unquote(urlsplit(request.url).path))
        if found is None:
            return answer(gemini_error(404, f"The URL {request.url} names no method."))
        if found["method"] == "predict":
            return answer(synth_images.imagen_predict(body, found["model"]))
        if found["method"] == "generateContent":
            return answer(synth_images.gemini_image(body, found["model"]))
        return answer(gemini_error(404, f"Method {found['method']} is not an image method."))

    def bfl(request: Any, body: Any) -> Any:
        if not request.headers.get("x-key"):
            return answer(BFL.unauthorized)
        if request.method == "GET":
            task = parse_qs(urlsplit(request.url).query).get("id", [""])[0]
            return answer(store.poll(task, SIM_ORIGIN + "/bfl"))
        base, _, model = request.url.rpartition("/")
        return answer(bfl_submit(store, body, model, base))

    def cloudflare(request: Any, body: Any) -> Any:
        model = unquote(urlsplit(request.url).path).partition("/run/")[2]
        if request.form is not None:  # FLUX.2: a multipart form; numbers arrive as text
            body = {
                name: int(v) if isinstance(v, str) and v.isdigit() else v for name, v, _f, _t in request.form
            }
        error, image = synth_images.cloudflare_image(body, model)
        if error is not None:
            return answer(error)
        if synth_images.cloudflare_binary(model):
            return make(200, (image,), "image/png")
        encoded = orjson.dumps(
            {"result": {"image": synth_images.b64(image)}, "success": True, "errors": [], "messages": []}
        )
        return make(200, (encoded,))

    def download(request: Any, body: Any) -> Any:
        name = urlsplit(request.url).path.rpartition("/")[2]
        image = store.images.get(name) if request.url.startswith(SIM_ORIGIN) else None
        if image is None:
            return answer(openai_error(404, "BlobNotFound"))
        return make(200, (image,), "image/png")

    return {
        ("openai", "images"): openai,
        ("gemini", "images"): google,
        ("bfl", "images"): bfl,
        ("cloudflare", "images"): cloudflare,
        ("openai", "image_download"): download,
        ("bfl", "image_download"): download,
    }
