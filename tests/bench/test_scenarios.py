"""What each profile runs: every comparison in the full, quick and smoke profiles, nothing twice."""

from __future__ import annotations

import pytest

from bench.scenarios import COMPARISONS, PROFILES, scenarios


@pytest.mark.parametrize("profile", ["full", "quick", "smoke"])
def test_every_comparison_has_a_scenario_and_names_are_unique(profile: str) -> None:
    plan = scenarios(PROFILES[profile])

    names = [s.name for s in plan]
    assert len(names) == len(set(names))
    assert {s.comparison for s in plan} >= set(COMPARISONS) - {"3"}  # 3 is the ceiling loop and queue-0s
    assert {"queue-0s", "floor-send", "seq-new", "seq-next"} <= set(names)


def test_the_smoke_profile_runs_two_worker_less_runs_back_to_back_and_measures_the_idle_worker() -> None:
    profile = PROFILES["smoke"]
    names = [s.name for s in scenarios(profile)]

    drained = names.index("webhook-drained")
    assert names[drained + 1] == "webhook-drained-steady"  # the second once stopped at PurgeQueueInProgress
    assert profile.idle_seconds and profile.sequential and profile.ceiling_threads


def test_only_keeps_the_named_comparisons_and_the_runs_they_share() -> None:
    names = {s.name for s in scenarios(PROFILES["full"], ("5",))}
    assert names == {"seq-new", "seq-next"}
    assert "queue-0s" in {s.name for s in scenarios(PROFILES["smoke"], ("3",))}
