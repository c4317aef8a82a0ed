"""--capped: a sub-account (cap, RPM limit, default tag) and a budget on that tag, made through the API.

The current gateway's targets then call with the sub-account's key, so every measured call goes through
all the admission work a capped customer's call does: the RPM window is counted, and the worst case is
reserved (and settled) on the parent's wallet, the sub-account's monthly cap and the tag's budget. The
limits are far above anything a run can spend or send, so nothing is refused: the parent's wallet
(credited with WALLET_CREDIT_USD) stays the tightest scope, as for an uncapped call.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from common import (
    ADMIN_KEY,
    CAPPED_CAP_CENTS,
    CAPPED_NAME,
    CAPPED_RPM,
    CAPPED_TAG,
    Capped,
    StartupError,
)

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _post(base_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with _NO_PROXY.open(request, timeout=30) as response:
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise StartupError(f"--capped: POST {path} answered {exc.code}: {exc.read()[:500]!r}") from exc
    except (OSError, ValueError) as exc:
        raise StartupError(f"--capped: POST {path} failed: {exc}") from exc
    return answer


def make_capped(base_url: str) -> Capped:
    """The sub-account and the tag budget, with the admin key (the parent account is the admin's)."""
    sub = _post(
        base_url,
        "/v1/sub-accounts",
        {
            "name": CAPPED_NAME,
            "spend_cap_cents": CAPPED_CAP_CENTS,
            "rate_limit_rpm": CAPPED_RPM,
            "default_tag": CAPPED_TAG,
        },
    )
    budget = _post(base_url, "/v1/budgets", {"tag": CAPPED_TAG, "cap_cents": CAPPED_CAP_CENTS})
    try:
        capped = Capped(sub_account_id=str(sub["id"]), key=str(sub["key"]), budget_id=str(budget["id"]))
    except KeyError as exc:
        raise StartupError(f"--capped: answer without {exc}: {sub} / {budget}") from exc
    print(
        f"\n  --capped: sub-account {capped.sub_account_id} (cap {CAPPED_CAP_CENTS:,} cents, "
        f"{CAPPED_RPM:,} RPM, default tag {CAPPED_TAG!r}), budget {capped.budget_id} on that tag",
        flush=True,
    )
    return capped
