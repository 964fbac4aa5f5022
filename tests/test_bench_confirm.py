"""The generated scenarios' second measurement (kehu/bench/run.py: run_generated, `confirm`): a
scenario over its budget is measured again after the whole pass and that verdict counts, the first
kept beside it; one over budget twice stays FAIL; an error status is never measured again."""

import time
from types import SimpleNamespace

from kehu.bench import run


class SlowFirst:
    """A stand-in API client: `slow` paths take 30 ms on their first `slow_calls` requests, then 0."""

    def __init__(self, slow: dict, statuses: dict):
        self.slow, self.statuses, self.calls = slow, statuses, {}

    def request(self, method, path, json=None, headers=None):
        n = self.calls[path] = self.calls.get(path, 0) + 1
        if n <= self.slow.get(path, 0):
            time.sleep(0.03)
        return SimpleNamespace(status_code=self.statuses.get(path, 200))

    def close(self):
        pass


def scenario(name, path):
    return {"name": name, "role": "admin", "group": "list customer", "client": "api", "path": path, "budget_ms": 20}


def test_over_budget_once_is_measured_again_and_twice_stays_fail(monkeypatch):
    # /noisy is slow for its whole first pass (2 warm-up and 3 measured requests), /slow always, /gone answers 404
    fake = SlowFirst({"/noisy": 5, "/slow": 10**6}, {"/gone": 404})
    monkeypatch.setattr(run, "api_client", lambda base, token: fake)
    spec = {"users": {"admin": {"token": "t"}}, "password": "x",
            "scenarios": [scenario("noisy", "/noisy"), scenario("slow", "/slow"), scenario("fast", "/fast"),
                          scenario("gone", "/gone")]}
    pace = []
    rows = {r["name"]: r for r in run.run_generated("http://x", spec, SimpleNamespace(vendor="sqlite"),
                                                    api_requests=3, warmup=2, pace=pace)}
    assert rows["noisy"]["verdict"] == "PASS" and rows["noisy"]["first_pass"]["verdict"] == "FAIL"
    assert rows["noisy"]["first_pass"]["p95_ms"] >= 25 > rows["noisy"]["p95_ms"]
    assert rows["slow"]["verdict"] == "FAIL" and rows["slow"]["first_pass"]["verdict"] == "FAIL"
    assert rows["fast"]["verdict"] == "PASS" and "first_pass" not in rows["fast"]
    assert rows["gone"]["verdict"] == "FAIL" and "first_pass" not in rows["gone"]
    assert fake.calls["/gone"] == 5  # measured once: a wrong status is not noise

    assert len(pace) == 1 and pace[0] > 0  # the machine's pace, read every 100 scenarios from the first
    md = run.generated_md({"sqlite": {"generated": list(rows.values()), "pace_ms": pace}})
    text = "\n".join(md)
    assert f"the machine's pace during the run (`run.machine_pace`, a fixed single-thread Python loop, read every " \
           f"100 scenarios): median {pace[0]:g} ms" in text
    assert "2 over budget on the first pass; measured again after it, 1 of them over budget again" in text
    assert "PASS (re-run; first p95" in text


def test_without_confirm_the_first_measurement_stands(monkeypatch):
    fake = SlowFirst({"/noisy": 5}, {})
    monkeypatch.setattr(run, "api_client", lambda base, token: fake)
    spec = {"users": {"admin": {"token": "t"}}, "password": "x", "scenarios": [scenario("noisy", "/noisy")]}
    (row,) = run.run_generated("http://x", spec, SimpleNamespace(vendor="sqlite"), api_requests=3, warmup=2,
                               confirm=False)
    assert row["verdict"] == "FAIL" and "first_pass" not in row
