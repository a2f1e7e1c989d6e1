"""The history refresh policy, replayed exactly with an injected clock (no network, no sleeps).

``Sim`` is a tiny in-memory Cloud (pages of 50, newest first, offset tokens) that answers
the policy's requests at simulated times; the policy only ever sees what a real client
would hand it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from nextmv_tui.cloud.errors import (
    ConnectionLostError,
    NextmvError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from nextmv_tui.cloud.history import (
    HistoryOptions,
    HistoryPolicy,
    ListApps,
    ListRuns,
    parse_age,
    parse_history,
)
from nextmv_tui.cloud.models import RunSummary
from nextmv_tui.cloud.status import RunStatus

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
PAGE = 50


@dataclass
class Sim:
    options: HistoryOptions = field(default_factory=HistoryOptions)
    now: float = 0.0
    runs: dict[str, list[RunSummary]] = field(default_factory=dict)
    fail: dict[str, list[NextmvError]] = field(default_factory=dict)
    log: list[tuple[float, object]] = field(default_factory=list)
    seen: dict[str, tuple[float, RunStatus]] = field(default_factory=dict)
    failures: list[tuple[float, NextmvError]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.policy = HistoryPolicy(
            self.options, clock=lambda: self.now, wall=self.wall, rng=lambda: 0.5
        )

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.now)

    def add(self, app: str, run_id: str, ago: float, status: str = "succeeded") -> RunSummary:
        run = RunSummary(id=run_id, created_at=self.wall() - timedelta(seconds=ago),
                         application_id=app, status_v2=status)
        runs = self.runs.setdefault(app, [])
        runs.append(run)
        runs.sort(key=lambda r: r.created_at, reverse=True)
        return run

    def finish(self, app: str, run_id: str) -> None:
        runs = self.runs[app]
        index = next(i for i, r in enumerate(runs) if r.id == run_id)
        runs[index] = runs[index].model_copy(update={"status_v2": RunStatus.SUCCEEDED})

    def step(self) -> object:
        decision = self.policy.next()
        if isinstance(decision, float):
            assert decision > 0
            self.now += decision
            return decision
        self.log.append((self.now, decision))
        key = "" if isinstance(decision, ListApps) else decision.app_id
        if self.fail.get(key):
            self.failures.append((self.now, self.fail[key][0]))
            self.policy.failed(decision, self.fail[key].pop(0))
            return decision
        if isinstance(decision, ListApps):
            self.policy.apps_listed(decision, list(self.runs), None)
            return decision
        offset = int(decision.page_token or 0)
        runs = self.runs[decision.app_id][offset:offset + PAGE]
        more = offset + PAGE < len(self.runs[decision.app_id])
        kept = self.policy.runs_listed(decision, runs, str(offset + PAGE) if more else None)
        for run in kept:
            self.seen.setdefault(run.id, (self.now, run.status_v2))
            if run.status_v2 != self.seen[run.id][1]:
                self.seen[run.id] = (self.now, run.status_v2)
        return decision

    def run_until(self, t: float) -> None:
        while self.now < t:
            self.step()

    def requests(self, start: float = 0.0, end: float = float("inf")) -> list[object]:
        return [r for at, r in self.log if start <= at < end]


def test_launch_lists_apps_then_every_first_page_then_older_pages():
    sim = Sim()
    for app in ("a", "b", "c"):
        for i in range(130):
            sim.add(app, f"{app}{i}", ago=60 * i)

    sim.run_until(1.0)

    order = [(r.app_id, r.page_token) if isinstance(r, ListRuns) else "apps"
             for r in sim.requests()]
    assert order[:4] == ["apps", ("a", None), ("b", None), ("c", None)]
    assert sorted(order[4:]) == [("a", "50"), ("b", "50"), ("c", "50")]  # max_runs 100
    assert len(sim.seen) == 300
    assert sim.policy.launch_done
    assert all(sim.policy.initial_done(app) for app in "abc")


def test_launch_stops_at_the_age_bound():
    sim = Sim(HistoryOptions(max_age=3600, max_runs=1000))
    for i in range(200):
        sim.add("a", f"r{i}", ago=40 * i)  # 90 runs within the hour

    sim.run_until(1.0)

    assert [r.page_token for r in sim.requests() if isinstance(r, ListRuns)] == [None, "50"]
    assert len(sim.seen) == 91  # ages 0, 40, ..., 3600


def test_a_run_made_elsewhere_appears_within_ten_seconds_with_a_handful_of_apps():
    sim = Sim()
    for app in "abcde":
        sim.add(app, f"{app}-old", ago=7200)
    sim.run_until(30.0)
    delays = []
    for k, app in enumerate("abcdeabcde"):
        start = 30.0 + 13.7 * k
        sim.run_until(start)
        sim.add(app, f"new-{k}", ago=0)
        sim.run_until(start + 12.0)
        delays.append(sim.seen[f"new-{k}"][0] - start)
    assert max(delays) <= 10.0, delays


def test_active_apps_are_listed_about_twice_as_often_as_idle_ones():
    sim = Sim()
    sim.add("busy", "b0", ago=60)  # activity a minute ago: active for 5 minutes
    sim.add("quiet", "q0", ago=7200)
    sim.run_until(5.0)
    sim.run_until(125.0)

    def count(app: str) -> int:
        return sum(1 for r in sim.requests(5.0, 125.0)
                   if isinstance(r, ListRuns) and r.app_id == app)

    assert count("busy") == pytest.approx(120 / 4, abs=1)
    assert count("quiet") == pytest.approx(120 / 8, abs=1)
    assert sim.policy.interval("busy") == 4.0 and sim.policy.interval("quiet") == 8.0
    sim.run_until(60 * 6)  # 5 minutes after its last activity the busy app turns idle
    assert sim.policy.interval("busy") == 8.0


def test_many_apps_stretch_the_cadence_to_the_request_budget():
    sim = Sim()
    apps = [f"app{i:02d}" for i in range(40)]
    for app in apps:
        for i in range(120):
            sim.add(app, f"{app}-{i}", ago=3600 + 60 * i)

    sim.run_until(600.0)

    launch = sim.requests(0, 60)
    assert len(launch) <= 60 + 60  # the burst, then the rate
    for start in range(60, 540, 60):
        assert len(sim.requests(start, start + 60)) <= 61
    steady = [r for r in sim.requests(300, 600) if isinstance(r, ListRuns)]
    per_app = {app: sum(1 for r in steady if r.app_id == app) for app in apps}
    assert min(per_app.values()) >= 6  # each app about every 40 s (40 apps, 60 requests/min)
    assert max(per_app.values()) - min(per_app.values()) <= 2  # and fairly


def test_a_run_that_finishes_deep_in_the_list_is_seen_final():
    sim = Sim()
    sim.add("a", "long", ago=3000, status="running")
    for i in range(80):
        sim.add("a", f"r{i}", ago=2000 - i)  # 80 newer runs: "long" is on page 2
    sim.run_until(30.0)
    assert sim.seen["long"][1] == RunStatus.RUNNING
    assert sim.policy.is_active("a")

    sim.finish("a", "long")
    at = sim.now
    sim.run_until(at + 10.0)

    assert sim.seen["long"][1] == RunStatus.SUCCEEDED
    assert sim.seen["long"][0] - at <= 5.0  # active app (a run in progress): every 4 s
    sim.run_until(sim.now + 60.0)
    tokens = {r.page_token for r in sim.requests(sim.now - 50) if isinstance(r, ListRuns)}
    assert tokens == {None}  # nothing open any more: refreshes read only the first page


@pytest.mark.parametrize("max_runs", [100, 200])
def test_refresh_follows_pages_when_many_runs_arrived_at_once(max_runs):
    sim = Sim(HistoryOptions(max_runs=max_runs))
    sim.add("a", "old", ago=5000)
    sim.run_until(10.0)
    for i in range(120):
        sim.add("a", f"burst{i}", ago=0.001 * i)
    at = sim.now
    sim.run_until(25.0)
    burst = {run_id for run_id in sim.seen if run_id.startswith("burst")}
    # A refresh reads at most max_runs runs: the newest of a bigger burst.
    assert burst == {f"burst{i}" for i in range(min(120, max_runs))}
    assert max(sim.seen[run_id][0] for run_id in burst) - at <= 10.0


def test_failures_back_off_per_app_and_never_stop_the_others():
    sim = Sim()
    sim.add("good", "g0", ago=7200)
    sim.add("bad", "b0", ago=7200)
    sim.fail["bad"] = [ServerError("boom", status=503)] * 5
    sim.run_until(200.0)

    bad = [at for at, r in sim.log if isinstance(r, ListRuns) and r.app_id == "bad"]
    gaps = [round(b - a) for a, b in itertools.pairwise(bad)]
    assert gaps[:5] == [5, 10, 20, 40, 80]
    assert "b0" in sim.seen and sim.policy.launch_done
    good = [at for at, r in sim.log if isinstance(r, ListRuns) and r.app_id == "good"]
    assert len(good) >= 200 / 8 - 1


def test_a_404_forgets_the_app_until_the_next_app_listing():
    sim = Sim()
    sim.add("gone", "x", ago=10)
    sim.fail["gone"] = [NotFoundError("no such app", status=404)]
    sim.run_until(1.0)
    assert "gone" not in sim.policy.app_ids
    sim.run_until(125.0)  # apps are listed again after 120 s
    assert "gone" in sim.policy.app_ids and "x" in sim.seen


def test_connection_loss_pauses_everything_and_429_waits_for_retry_after():
    sim = Sim()
    for app in "ab":
        sim.add(app, f"{app}0", ago=7200)
    sim.run_until(20.0)
    sim.fail["a"] = [ConnectionLostError("down"), RateLimitedError("slow", retry_after=30)]
    sim.run_until(sim.now + 90.0)

    down, limited = sim.failures[0][0], sim.failures[1][0]
    assert [t for t, _ in sim.log if down < t < down + 5.0 * 0.9] == []  # global pause
    assert [t for t, _ in sim.log if limited < t < limited + 30.0] == []  # Retry-After
    assert any(isinstance(r, ListRuns) and r.app_id == "a" for t, r in sim.log if t > limited)


def test_the_app_list_failing_at_launch_is_retried_with_backoff():
    sim = Sim()
    sim.add("a", "a0", ago=1)
    sim.fail[""] = [ServerError("x", status=500), ServerError("x", status=500)]
    sim.run_until(30.0)
    apps = [at for at, r in sim.log if isinstance(r, ListApps)]
    assert [round(t) for t in apps[:3]] == [0, 5, 15]
    assert "a0" in sim.seen


def test_repeated_tokens_end_a_walk():
    sim = Sim()
    sim.add("a", "a0", ago=1)
    policy = sim.policy
    assert isinstance(policy.next(), ListApps)
    policy.apps_listed(ListApps(), ["a"], None)
    first = policy.next()
    assert isinstance(first, ListRuns) and first.page_token is None
    policy.runs_listed(first, sim.runs["a"], "t1")
    second = policy.next()
    assert isinstance(second, ListRuns) and second.page_token == "t1"
    policy.runs_listed(second, sim.runs["a"], "t1")  # the same token again
    assert policy.initial_done("a")
    assert isinstance(policy.next(), float)


def test_poke_lists_an_idle_app_at_once():
    sim = Sim()
    sim.add("a", "a0", ago=7200)
    sim.run_until(3.0)
    sim.add("a", "fresh", ago=0)
    sim.policy.poke("a")
    sim.step()
    assert "fresh" in sim.seen and sim.seen["fresh"][0] == sim.now
    assert sim.policy.is_active("a")


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800),
                          ("1.5h", 5400), (" 2H ", 7200)],
)
def test_parse_age(text, seconds):
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["", "24", "h", "-1h", "1e3h", "²h", "400d", "1 h", "nan"])
def test_parse_age_refuses(text):
    with pytest.raises(ValueError):
        parse_age(text)


def test_parse_history():
    assert parse_history("24h") == HistoryOptions(max_age=86400, max_runs=100)
    assert parse_history("7d:500") == HistoryOptions(max_age=604800, max_runs=500)
    assert not parse_history("off").enabled
    for bad in ("24h:0", "24h:x", "24h:²", "24h:99999999"):
        with pytest.raises(ValueError):
            parse_history(bad)


def test_waits_are_never_too_small_to_move_a_clock():
    """A token count just under 1 once made the wait 1e-13 s: at t=300 s adding that to the
    clock changes nothing, and a loop on ``next()`` spun forever."""
    sim = Sim(HistoryOptions(requests_per_minute=7, burst=1))
    for app in "abc":
        sim.add(app, f"{app}0", ago=10)
    sim.now = 300.0
    steps = 0
    while sim.now < 900.0:
        before = sim.now, len(sim.log)
        sim.step()
        assert (sim.now, len(sim.log)) != before
        steps += 1
    assert steps < 10_000
