"""Image models of the integration gateway: OpenAI-wire models on the simulator (synthesized and
recorded), and a FLUX model on Black Forest Labs' API, which the simulator serves under ``/bfl/v1``
(the test gateway points ``AIGATEWAY_BFL_BASE_URL`` there)."""

from __future__ import annotations

from typing import Any


def _image(model_id: str, provider: str, upstream: str, pricing: dict[str, str]) -> dict[str, Any]:
    return {
        "id": model_id,
        "modality": "image",
        "pricing": pricing,
        "deployments": [{"provider": provider, "upstream_model": upstream}],
    }


PER_IMAGE = {"per_image": "0.04"}
IMAGE_MODELS: list[dict[str, Any]] = [
    _image("sim/dall-e-3", "sim", "dall-e-3", PER_IMAGE),
    _image("sim/gpt-image", "sim", "gpt-image-1", {"input_per_mtok": "5", "output_per_mtok": "40"}),
    _image("sim/flux", "bfl", "flux-pro-1.1", PER_IMAGE),
    _image("rec/images-url", "sim", "rec:openai/images-generations-url", {"per_image": "0.016"}),
    _image("rec/images-error-400", "sim", "rec:openai/images-generations-error-400", {"per_image": "0.016"}),
]
