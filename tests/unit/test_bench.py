"""`zvarot bench`: its documents are what it claims to send, and it says which targets a run met."""

from __future__ import annotations

from gateway.bench import make_appeals, median_run, ratio_of_rounds, target_lines
from gateway.xml import ns
from gateway.xml.parsing import parse_document


def test_benchmark_appeals_are_distinct_signed_appeals_of_the_asked_size(pki_dir, gateway):
    docs = make_appeals(pki_dir, 5, size=4096)
    ids = {parse_document(d).findtext("zv:Header/zv:MessageId", namespaces=ns.NSMAP) for d in docs}
    assert len(ids) == 5
    assert all(3800 <= len(d) <= 4600 for d in docs)
    outcomes = [gateway.pipeline.submit(d).outcome for d in docs]  # accepted by the real pipeline
    assert outcomes == ["accepted"] * 5


def _results(docs_s: float, p99: float, ratio: float) -> dict:
    return {"http": (docs_s, 10.0, 40.0, 0), "paced": (500.0, 8.0, p99, 0), "ratio_floor": ratio}


def test_targets_are_reported_met_or_not():
    met = target_lines(_results(1010, 24.5, 0.55), postgres=False, rate=500)
    assert met == [
        "target HTTP full >= 1000 docs/s on sqlite: 1010 (met)",
        "target p99 <= 50 ms at 500 docs/s: 24.5 ms (met)",
        "target ratio to the HTTP floor >= 0.5: 0.55 (met)",
    ]
    missed = target_lines(_results(790, 170.6, 0.38), postgres=True, rate=500)
    assert [line.rsplit("(", 1)[1] for line in missed] == ["NOT met)"] * 3
    assert missed[0].startswith("target HTTP full >= 800 docs/s on postgresql: 790")


def test_the_median_run_is_taken_by_the_figure_judged():
    runs = [(700.0, 9.0, 80.0, 0), (500.0, 12.0, 30.0, 0), (600.0, 10.0, 50.0, 0)]
    assert median_run(runs, key=0) == (600.0, 10.0, 50.0, 0)  # docs/s
    assert median_run(runs, key=2, lower_is_better=True) == (600.0, 10.0, 50.0, 0)  # p99
    # Of an even count's middle two, the worse: the lower docs/s, the higher p99.
    assert median_run(runs[:2], key=0) == (500.0, 12.0, 30.0, 0)
    assert median_run(runs[:2], key=2, lower_is_better=True) == (700.0, 9.0, 80.0, 0)
    assert median_run(runs[:1], key=2, lower_is_better=True) == runs[0]


def test_the_ratio_pairs_runs_of_the_same_round():
    floors = [(2000.0, 0, 0, 0), (1000.0, 0, 0, 0), (1500.0, 0, 0, 0)]
    fulls = [(500.0, 0, 0, 0), (600.0, 0, 0, 0), (700.0, 0, 0, 0)]
    # Rounds: 0.25, 0.60, 0.47 -> 0.47, where the quotient of the medians (600 / 1500) would say 0.40.
    assert round(ratio_of_rounds(floors, fulls), 2) == 0.47
    assert ratio_of_rounds(floors[:2], fulls[:2]) == 0.25  # even: the lower of the middle two
