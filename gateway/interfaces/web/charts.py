"""The weekly score chart of an official's profile, as geometry for an inline SVG (templates/_chart.html).

Plain numbers only: the template draws them, Jinja escapes every text. A week without a score (insufficient
data) breaks the line; the table under the chart lists every week, so the chart has a full text alternative.
"""

from __future__ import annotations

import math

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 36, 14, 40
MAX_X_LABELS = 8


def score_chart(history: list[dict]) -> dict | None:
    """`history`: an official's weekly ratings, oldest first, each with `week` and `score` (0–100 or None)."""
    if not history:
        return None
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(history)

    def x(i: int) -> float:
        return round(LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 1)

    def y(score: float) -> float:
        return round(TOP + plot_h * (1 - max(0.0, min(score, 100.0)) / 100), 1)

    step = max(1, math.ceil(n / MAX_X_LABELS))
    shown = [i for i in range(n) if i % step == 0]
    if shown[-1] != n - 1:
        if n - 1 - shown[-1] < step / 2 and len(shown) > 1:
            shown.pop()  # too close to the last week's label
        shown.append(n - 1)

    points: list[dict] = []
    segments: list[str] = []
    gaps: list[float] = []
    current: list[dict] = []
    for i, week in enumerate(history):
        if week.get("score") is None:
            gaps.append(x(i))
            if len(current) > 1:
                segments.append(" ".join(f"{p['x']},{p['y']}" for p in current))
            current = []
            continue
        point = {"x": x(i), "y": y(week["score"]), "week": week["week"], "score": week["score"]}
        point["rank"] = week.get("rank")
        points.append(point)
        current.append(point)
    if len(current) > 1:
        segments.append(" ".join(f"{p['x']},{p['y']}" for p in current))

    scored = [p["score"] for p in points]
    if scored:
        summary = (
            f"Weekly score from {history[0]['week']} to {history[-1]['week']}: scored in {len(scored)} "
            f"of {n} weeks; latest score {points[-1]['score']} ({points[-1]['week']}), "
            f"highest {max(scored)}, lowest {min(scored)}."
        )
    else:
        summary = (
            f"Weekly score from {history[0]['week']} to {history[-1]['week']}: no week had enough data for a "
            "score."
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "y_ticks": [{"y": y(v), "label": str(v)} for v in (0, 25, 50, 75, 100)],
        "x_labels": [{"x": x(i), "label": history[i]["week"]} for i in shown],
        "points": points,
        "segments": segments,
        "gaps": gaps,
        "summary": summary,
    }
