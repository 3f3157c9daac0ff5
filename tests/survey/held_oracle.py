"""The burst and identical-run rules written straight from their definition, over a whole
history at once (quadratic, obviously right): what the incremental code must agree with."""

from __future__ import annotations

from datetime import timedelta

from services.survey.integrity import RUN_GAP, RUN_LENGTH, Seen


def oracle(history: list[Seen], *, limit: int, window: timedelta, runs: bool,
           name_burst) -> dict[str, tuple[str | None, bool]]:
    """{id: (burst id or None, identical_run)} of one subject's ratings from one source."""
    order = sorted(history, key=lambda s: s.key)
    burst_held = []
    for i, r in enumerate(order):
        count = sum(1 for s in order[:i + 1] if s.at > r.at - window)
        burst_held.append(bool(limit) and count > limit)
    bursts: dict[str, str] = {}
    first = previous = None
    for r, held in zip(order, burst_held, strict=True):
        if not held:
            continue
        if previous is None or r.at - previous.at > window:
            first = r
        bursts[r.id] = name_burst(first)
        previous = r
    identical = {}
    for i, r in enumerate(order):
        length = 0
        if runs and r.signature is not None:
            length, j = 1, i
            while j > 0 and order[j - 1].signature == r.signature and \
                    order[j].at - order[j - 1].at <= RUN_GAP:
                length, j = length + 1, j - 1
        identical[r.id] = length >= RUN_LENGTH
    return {r.id: (bursts.get(r.id), identical[r.id]) for r in order}
