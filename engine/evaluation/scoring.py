"""Composite scores and grades from the weights and grade bands stored in the database.

The weights (evaluation_weight) and bands (evaluation_grade) are data seeded from DOMAIN.md §6
by migration 0005; an admin changes rows, never code. A term that does not apply to a unit in a
period (its rate has no denominator) is left out and the other weights are scaled up to the
same total, so a department that had nothing to rework is not scored as if it reworked all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.evaluation.metrics import Kind, Rate
from engine.models import EvaluationGrade, EvaluationWeight

VOLUME = "volume"
COMPLEMENT = "100-"


@dataclass(frozen=True)
class ScoreSettings:
    weights: dict[Kind, dict[str, float]]
    bands: tuple[tuple[str, float], ...]  # (grade, min score), highest first

    def grade(self, score: float | None) -> str | None:
        if score is None:
            return None
        for grade, minimum in self.bands:
            if score >= minimum:
                return grade
        return None

    def score(self, kind: Kind, rates: dict[Rate, float | None], volume: float | None) -> float | None:
        # Sorted terms: the same sum in the same order whatever order the rows came in, so a
        # snapshot recomputed from its recorded weights rounds to the very same score.
        weights = sorted((self.weights.get(kind) or {}).items())
        total = sum(w for _, w in weights)
        got, used = 0.0, 0.0
        for term, weight in weights:
            value = term_value(term, rates, volume)
            if value is not None:
                got += weight * value
                used += weight
        if used <= 0:
            return None
        return round(got * total / used, 2)

    def as_dict(self) -> dict[str, object]:
        return {"weights": {k.value: dict(sorted(v.items())) for k, v in sorted(self.weights.items())},
                "bands": [list(b) for b in self.bands]}


def term_value(term: str, rates: dict[Rate, float | None], volume: float | None) -> float | None:
    if term == VOLUME:
        return volume
    if term.startswith(COMPLEMENT):
        value = rates.get(Rate(term[len(COMPLEMENT):]))
        return None if value is None else 100.0 - value
    return rates.get(Rate(term))


def check_term(term: str) -> None:
    name = term[len(COMPLEMENT):] if term.startswith(COMPLEMENT) else term
    if term != VOLUME and name not in {r.value for r in Rate}:
        raise ValidationError(f"unknown score term {term!r}", {"term": "unknown"})


def load_settings(session: Session) -> ScoreSettings:
    weights: dict[Kind, dict[str, float]] = {}
    for row in session.scalars(select(EvaluationWeight)):
        if row.kind in {k.value for k in Kind}:
            weights.setdefault(Kind(row.kind), {})[row.term] = float(row.weight)
    bands = tuple((g.grade, float(g.min_score)) for g in
                  session.scalars(select(EvaluationGrade).order_by(EvaluationGrade.min_score.desc())))
    return ScoreSettings(weights, bands)


def set_weight(session: Session, kind: str, term: str, weight: float) -> None:
    """Change (or add) one weight; a weight of 0 removes the term."""
    if kind not in {k.value for k in Kind}:
        raise ValidationError(f"unknown kind {kind!r}", {"kind": "unknown"})
    check_term(term)
    if weight < 0 or weight > 1:
        raise ValidationError("a weight is between 0 and 1", {"weight": "out of range"})
    row = session.get(EvaluationWeight, (kind, term))
    if weight == 0:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(EvaluationWeight(kind=kind, term=term, weight=weight))
    else:
        row.weight = weight


def set_grade(session: Session, grade: str, min_score: float) -> None:
    """Change (or add) a grade band: ``grade`` from ``min_score`` (0–100) up."""
    if not grade or len(grade) > 4 or not 0 <= min_score <= 100:
        raise ValidationError("a grade is 1–4 characters and its minimum score 0–100", {"grade": "invalid"})
    row = session.get(EvaluationGrade, grade)
    if row is None:
        session.add(EvaluationGrade(grade=grade, min_score=min_score))
    else:
        row.min_score = min_score


__all__ = ["ScoreSettings", "check_term", "load_settings", "set_grade", "set_weight", "term_value"]
