"""Capabilities the pricing snapshot has no flag for, curated per model from the labs' docs."""

from __future__ import annotations

# Capabilities the snapshot has no flag for, from the labs' own documentation (facts, by model):
# - adaptive_thinking: Anthropic's `thinking: {"type": "adaptive"}` with `output_config.effort`.
#   Recommended on Claude Opus 4.6 and Sonnet 4.6 (budget thinking deprecated there), and the only
#   thinking mode on Claude 4.7 and later, which reject `budget_tokens` with a 400.
# - no_sampling: Claude Opus 4.7 and later reject temperature / top_p / top_k with a 400.
_CLAUDE_AFTER_4_6 = (
    "anthropic/claude-opus-4.7",
    "anthropic/claude-opus-4.8",
    "anthropic/claude-opus-5",
    "anthropic/claude-opus-5.5",
    "anthropic/claude-sonnet-5",
    "anthropic/claude-sonnet-5.5",
    "anthropic/claude-haiku-5.5",
    "anthropic/claude-fable-5",
    "anthropic/claude-fable-5.1",
    "anthropic/claude-mythos-5",
    "anthropic/claude-mythos-5.1",
)
EXTRA_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "anthropic/claude-opus-4.6": ("adaptive_thinking",),
    "anthropic/claude-sonnet-4.6": ("adaptive_thinking",),
    **{slug: ("adaptive_thinking", "no_sampling") for slug in _CLAUDE_AFTER_4_6},
}
