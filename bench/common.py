"""Constants and the data every benchmark module shares: targets, wrk results, memory and ledger figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
UPSTREAM_PORT = 9100
ADMIN_KEY = "sk-aig-benchAdminKey0000000000000000000000"
LITELLM_KEY = "sk-litellm-bench-master-key-000000"
INSTALL_HINT = "apt-get install -y nginx wrk"
DIRECT = "direct (nginx)"
GATEWAY = "aigateway"  # the OpenAI-wire run: the gateway relays OpenAI chat as-is
GATEWAY_ANTHROPIC = "aigateway (anthropic wire)"  # same gateway, translating to/from Anthropic Messages
GATEWAY_BASELINE = "aigateway baseline"  # --baseline-src: a gateway running another source tree's code
LITELLM = "litellm"
CONCURRENCIES = (1, 16)
SCRIPTS = {
    "non-stream": BENCH_DIR / "post.lua",
    "stream": BENCH_DIR / "stream.lua",
    "embeddings": BENCH_DIR / "embed.lua",
}
CHAT_MODES = ("non-stream", "stream")
WRK_TIMEOUT = "30s"
SOAK_TARGET = 100_000
TARGET_ADDED_P50_MS = 1.0
TARGET_TRANSLATION_P50_MS = 0.2
TARGET_RPS_C16 = 1500.0
TARGET_AB_REGRESSION = 0.05  # non-streaming chat: current vs --baseline-src, p50 and RPS, at c=1 and c=16
TARGET_RSS_MB = 150.0
TARGET_RSS_GROWTH_MB = 10.0
DRAIN_TIMEOUT_S = 120.0
# --capped (the default): the current gateway's targets call with a sub-account's key whose cap, RPM limit
# and default tag's budget are all far above what a run can spend or send, so every call passes through
# the three reservation scopes (wallet, sub-account cap, tag budget) and the RPM window without a refusal.
CAPPED_NAME = "bench"
CAPPED_TAG = "bench"
CAPPED_CAP_CENTS = 10**9  # $10M: far above the wallet's $1M credit, which stays the binding scope
CAPPED_RPM = 10**9
WALLET_CREDIT_USD = 1_000_000  # `aigateway balance add`; a chat request costs ~$0.00005 (12 in, 20 out)


class StartupError(Exception):
    """Something the benchmark needs could not be started; the run stops (exit status 2)."""


@dataclass(frozen=True)
class Target:
    name: str
    base_url: str
    paths: dict[str, str]  # mode -> request path
    models: dict[str, str]  # mode -> model id
    key: str
    pid: int | None = None  # the server process, for CPU time per request (gateways only)


@dataclass
class WrkResult:
    target: str
    mode: str
    conns: int
    kind: str  # warm-up | run | soak
    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    non_2xx: int
    socket_errors: dict[str, int] = field(default_factory=dict)
    cpu_us: float | None = None  # CPU time (user + system, all threads) of the server per request

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def error_text(self) -> str:
        parts = [f"non-2xx {self.non_2xx}"] if self.non_2xx else []
        parts += [f"socket {k} {v}" for k, v in self.socket_errors.items() if v]
        return ", ".join(parts) or "0"


@dataclass
class Memory:
    pid: int
    verified: str
    ready_mb: float = 0.0
    start_mb: float = 0.0  # after warm-up
    after_runs_mb: float = 0.0
    after_soak_mb: float | None = None
    soak_requests: int = 0
    after_drain_mb: float | None = None  # diagnostic: after a late ledger backlog was written

    @property
    def growth_mb(self) -> float | None:
        """From the start (after warm-up) to after the soak."""
        return None if self.after_soak_mb is None else self.after_soak_mb - self.start_mb

    @property
    def soak_growth_mb(self) -> float | None:
        """Over the soak alone: what the flatness target is judged on."""
        return None if self.after_soak_mb is None else self.after_soak_mb - self.after_runs_mb


@dataclass
class Ledger:
    completed: int = 0  # requests wrk reported as completed against the gateway
    slack: int = 0  # sum of connections over those runs: requests possibly in flight when wrk stopped
    rows_running: int | None = None
    rows_after_shutdown: int | None = None
    caught_up_s: float | None = None  # diagnostic: when the rows reached `completed`, if late
    sub_account_id: str | None = None  # --capped: every row must carry this sub-account and its tag
    capped_rows: int | None = None  # rows (after shutdown) with that sub_account_id and tag CAPPED_TAG

    def ok(self, rows: int | None) -> bool:
        return rows is not None and self.completed <= rows <= self.completed + self.slack

    def capped_ok(self) -> bool:
        """Without --capped, nothing to check; with it, no row may miss the sub-account or its tag."""
        return self.sub_account_id is None or self.capped_rows == self.rows_after_shutdown


@dataclass
class Baseline:
    """The --baseline-src gateway: which code it really ran, its memory and its ledger."""

    src: str
    module_file: str  # `aigateway.__file__` as its python imports it
    commit: str | None = None
    memory: Memory | None = None
    ledger: Ledger = field(default_factory=Ledger)


@dataclass
class Capped:
    """The sub-account the current gateway's targets call with (--capped)."""

    sub_account_id: str
    key: str
    budget_id: str


@dataclass
class Outcome:
    runs: list[WrkResult] = field(default_factory=list)
    memory: Memory | None = None
    ledger: Ledger = field(default_factory=Ledger)
    module_file: str = ""  # `aigateway.__file__` of the measured (current) gateway
    baseline: Baseline | None = None
    capped: Capped | None = None
    notes: list[str] = field(default_factory=list)


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def find_run(runs: list[WrkResult], target: str, mode: str, conns: int) -> WrkResult | None:
    """The measured run (not warm-up or soak) of `target` in `mode` at `conns`, if any."""
    found = [
        r for r in runs if r.target == target and r.mode == mode and r.conns == conns and r.kind == "run"
    ]
    return found[0] if found else None
