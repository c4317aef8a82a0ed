"""The deterministic rerank synthesizer (simulators/synth_rerank.py): scores, order and wire shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aigateway.simulators import synth_rerank as sr

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "provider-recordings"
QUERY = "What is the capital of France?"
DOCS = [
    "Bananas are yellow and grow in bunches.",
    "Berlin is the capital of Germany.",
    "Paris is the capital of France.",
    "France exports wine.",
]


def _recording(key: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDINGS / f"{key}.json").read_text())
    return data


def _keys(items: list[dict[str, Any]]) -> set[tuple[str, ...]]:
    return {tuple(sorted(item)) for item in items}


# -- scores ---------------------------------------------------------------------------------------
def test_scores_are_in_the_open_unit_interval_and_follow_overlap() -> None:
    scores = [sr.relevance_score(QUERY, d) for d in DOCS]
    assert all(0.0 < s < 1.0 for s in scores)
    assert scores[2] > scores[1] > scores[0]  # all key words > one key word > none
    assert scores[2] > scores[3] > scores[0]
    assert sr.relevance_score(QUERY, DOCS[2]) == scores[2]  # deterministic
    assert sr.relevance_score(QUERY.upper(), DOCS[2].lower()) > scores[1]  # case does not matter
    assert 0.0 < sr.relevance_score("", "anything") < 0.1
    assert 0.0 < sr.relevance_score("the of is", "unrelated words here") < 0.1


def test_rank_orders_by_score_and_breaks_ties_by_index() -> None:
    ranked = sr.rank(QUERY, DOCS)
    assert [i for i, _ in ranked] == [2, 1, 3, 0]
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    twins = sr.rank("capital", ["same text", "same text", "capital city"])
    assert [i for i, _ in twins] == [2, 0, 1] and twins[1][1] == twins[2][1]
    assert sr.rank(QUERY, DOCS) == ranked


def test_search_units_count_documents_per_hundred_and_long_documents_per_chunk() -> None:
    assert sr.search_units("q", ["d"] * 100) == 1
    assert sr.search_units("q", ["d"] * 101) == 2
    assert sr.search_units("q", ["x" * 4000] * 50) == 2  # 1000 tokens each: 3 chunks apiece, 150 in all


# -- Cohere ---------------------------------------------------------------------------------------
def test_cohere_v2_matches_the_recording_shape_and_cuts_to_top_n() -> None:
    recorded = _recording("cohere/rerank-v2")
    answer = sr.cohere_rerank(recorded["request"]["body"])
    expected = json.loads(recorded["response"]["body"])
    assert answer.status == 200 and list(answer.payload) == list(expected)
    assert answer.payload["meta"] == expected["meta"]  # version 2, one search unit
    results = answer.payload["results"]
    assert len(results) == 3 and _keys(results) == _keys(expected["results"])
    assert [r["relevance_score"] for r in results] == sorted(
        (r["relevance_score"] for r in results), reverse=True
    )
    everything = sr.cohere_rerank({**recorded["request"]["body"], "top_n": None}).payload["results"]
    assert len(everything) == 6 and everything[:3] == results
    assert sr.cohere_rerank(recorded["request"]["body"]).payload["id"] == answer.payload["id"]


def test_cohere_v1_answers_version_1_and_returns_documents() -> None:
    recorded = _recording("cohere/rerank-v1")
    body = {**recorded["request"]["body"], "return_documents": True}
    answer = sr.cohere_rerank(body, version=1)
    assert answer.payload["meta"]["api_version"] == {"version": "1"}
    first = answer.payload["results"][0]
    assert first["document"] == {"text": body["documents"][first["index"]]}
    objects = sr.cohere_rerank(
        {"query": "capital", "documents": [{"text": "a capital"}, {"text": "b"}]}, version=1
    )
    assert objects.ok and objects.payload["results"][0]["index"] == 0  # v1: model optional, objects allowed
    fields = sr.cohere_rerank(
        {"query": "capital", "documents": [{"t": "x"}, {"t": "capital"}], "rank_fields": ["t"]}, version=1
    )
    assert fields.payload["results"][0]["index"] == 1
    assert (
        "document"
        not in sr.cohere_rerank({**body, "return_documents": False}, version=1).payload["results"][0]
    )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"query": "q", "documents": ["a"]}, "model must be specified"),
        ({"model": "m", "documents": ["a"]}, "query must not be empty"),
        ({"model": "m", "query": " ", "documents": ["a"]}, "query must not be empty"),
        ({"model": "m", "query": "q"}, "documents must be"),
        ({"model": "m", "query": "q", "documents": []}, "documents must be"),
        ({"model": "m", "query": "q", "documents": [{"text": "a"}]}, "documents must be"),
        ({"model": "m", "query": "q", "documents": ["a"] * 1001}, "documents must be"),
        ({"model": "m", "query": "q", "documents": ["a"], "top_n": 0}, "top_n"),
        ({"model": "m", "query": "q", "documents": ["a"], "max_tokens_per_doc": -1}, "max_tokens_per_doc"),
    ],
)
def test_cohere_refusals(body: dict[str, Any], needle: str) -> None:
    answer = sr.cohere_rerank(body)
    assert (
        answer.status == 400
        and set(answer.payload) == {"id", "message"}
        and needle in answer.payload["message"]
    )
    assert sr.cohere_rerank("not a dict").status == 400


# -- Voyage, Jina, Cloudflare ---------------------------------------------------------------------
def test_voyage_matches_the_recording_shape_and_top_k() -> None:
    recorded = _recording("voyage/rerank")
    answer = sr.voyage_rerank(recorded["request"]["body"])
    expected = json.loads(recorded["response"]["body"])
    assert answer.status == 200 and list(answer.payload) == list(expected)
    assert [list(item) for item in answer.payload["data"]] == [list(item) for item in expected["data"]]
    assert answer.payload["model"] == "rerank-2-lite" and set(answer.payload["usage"]) == {"total_tokens"}
    # the recorded query asks about France's capital: a Paris document wins, as it did upstream
    assert answer.payload["data"][0]["index"] in (0, 3)
    with_docs = sr.voyage_rerank({**recorded["request"]["body"], "top_k": 1, "return_documents": True})
    (item,) = with_docs.payload["data"]
    assert item["document"] == recorded["request"]["body"]["documents"][item["index"]]
    for bad in (
        {"query": "q", "documents": ["a"]},
        {"model": "m", "query": "", "documents": ["a"]},
        {"model": "m", "query": "q", "documents": [{"text": "a"}]},
        {"model": "m", "query": "q", "documents": ["a"], "top_k": "2"},
    ):
        refused = sr.voyage_rerank(bad)
        assert refused.status == 400 and set(refused.payload) == {"detail"}


def test_jina_shape_top_n_and_documents_by_default() -> None:
    body = {"model": "jina-reranker-v2-base-multilingual", "query": QUERY, "documents": DOCS, "top_n": 2}
    answer = sr.jina_rerank(body)
    payload = answer.payload
    assert answer.status == 200 and list(payload) == ["model", "usage", "results"]
    assert [r["index"] for r in payload["results"]] == [2, 1]
    assert payload["results"][0] == {
        "index": 2,
        "relevance_score": payload["results"][0]["relevance_score"],
        "document": {"text": DOCS[2]},
    }
    assert set(payload["usage"]) == {"total_tokens"} and payload["usage"]["total_tokens"] > 0
    bare = sr.jina_rerank({**body, "return_documents": False, "documents": [{"text": d} for d in DOCS]})
    assert "document" not in bare.payload["results"][0] and bare.payload["results"][0]["index"] == 2
    assert sr.jina_rerank({**body, "query": {"text": QUERY}}).payload["results"] == payload["results"]
    images = sr.jina_rerank(
        {
            "model": "m",
            "query": "cat",
            "documents": [{"image": "https://x/dog.png"}, {"image": "https://x/cat.png"}],
        }
    )
    assert images.payload["results"][0]["document"] == {"image": "https://x/cat.png"}
    for bad in (
        {"query": "q", "documents": ["a"]},
        {"model": "m", "documents": ["a"]},
        {"model": "m", "query": "q", "documents": [3]},
    ):
        assert set(sr.jina_rerank(bad).payload) == {"detail"}


def test_cloudflare_shape_and_top_k() -> None:
    body = {"query": QUERY, "contexts": [{"text": d} for d in DOCS], "top_k": 3}
    answer = sr.cloudflare_rerank(body)
    assert answer.status == 200
    assert (
        answer.payload["success"] is True
        and answer.payload["errors"] == []
        and answer.payload["messages"] == []
    )
    response = answer.payload["result"]["response"]
    assert [r["id"] for r in response] == [2, 1, 3] and _keys(response) == {("id", "score")}
    for bad in (
        {"contexts": [{"text": "a"}]},
        {"query": "q", "contexts": ["a"]},
        {"query": "q", "contexts": []},
        {"query": "q", "contexts": [{"text": "a"}], "top_k": 0},
        None,
    ):
        refused = sr.cloudflare_rerank(bad)
        assert (
            refused.status == 400
            and refused.payload["success"] is False
            and refused.payload["result"] is None
        )
        assert refused.payload["errors"][0]["message"]
