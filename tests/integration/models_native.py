"""Models for the native-wire integration tests (Anthropic, Gemini), served by the simulator.

Each entry is a ``[[models]]`` table for the test gateway's config. The simulator replays a
recording when the upstream model id names one (see src/aigateway/simulators).
"""

from __future__ import annotations

from typing import Any

ANTHROPIC_MODELS: list[dict[str, Any]] = []
GEMINI_MODELS: list[dict[str, Any]] = []
