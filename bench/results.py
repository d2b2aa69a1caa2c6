"""The figures a bench script measured, for `make bench`'s one table (bench/all.py).

Every script prints its own figures; when ``ACCORD_BENCH_RESULTS`` names a file, it also appends each figure to it
as one JSON line, which bench/all.py reads back. Standing alone, a script writes nothing more than it prints.
"""

import json
import os
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Result:
    group: str  # "pages", "sweeps", "pdf", "import", "load": the table's sections
    target: str
    p50: float | None
    p95: float | None
    unit: str  # "ms" or "s"
    floor: float  # the budget: a miss above it
    stretch: float | None = None  # issue 10's stretch figure, where it sets one
    queries: int | None = None
    max_queries: int | None = None
    cold_p95: float | None = None  # pages: p95 with the cache emptied before each request (a first visit)
    judged: str = "p95"  # which figure the floor and the stretch apply to: "p50", "p95" or "value" (p95 holds it)
    note: str = ""
    error: str = ""

    @property
    def figure(self) -> float | None:
        return self.p50 if self.judged == "p50" else self.p95

    @property
    def passed(self) -> bool:
        queries_ok = self.max_queries is None or (self.queries or 0) <= self.max_queries
        return not self.error and self.figure is not None and self.figure <= self.floor and queries_ok

    @property
    def stretch_met(self) -> bool | None:
        if self.stretch is None or self.figure is None:
            return None
        return self.figure <= self.stretch


def record(**fields) -> Result:
    """Keep one figure: appended to ``$ACCORD_BENCH_RESULTS`` when set. Returns it."""
    result = Result(**fields)
    path = os.environ.get("ACCORD_BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(result)) + "\n")
    return result


def read(path: str) -> list[Result]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as lines:
        return [Result(**json.loads(line)) for line in lines if line.strip()]


SWEEP_STRETCH_SECONDS = 10  # issue 10's stretch figure for a sweep's wall time


def report_sweep(sweep: str, label: str, value: float, target: float, unit: str, note: str) -> None:
    """Print one figure of a sweep (seconds: at most ``target``; megabytes: under it) and keep it."""
    verdict = "PASS" if (value <= target if unit == "s" else value < target) else "MISS"
    target_text = f"{'≤' if unit == 's' else '<'} {target} {unit}"
    stretch = SWEEP_STRETCH_SECONDS if unit == "s" else None
    if stretch is not None:
        verdict += f", stretch {stretch} s {'met' if value <= stretch else 'not met'}"
    print(f"{label:18} {value:8.1f} {unit:2}  (target {target_text}; {note})  {verdict}")
    record(
        group="sweeps", target=f"{sweep}: {label}", p50=None, p95=round(value, 1), unit=unit, floor=target,
        stretch=stretch, judged="value", note=note,
    )  # fmt: skip
