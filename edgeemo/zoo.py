"""Zoo listing: each registered model with its spec, cost and attached weights."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from edgeemo.models import get_spec, list_models, weights_path, zoo_card
from edgeemo.reference import REFERENCE_MACC


@dataclass
class ZooEntry:
    name: str
    description: str
    input_shape: list[int]
    channel_order: str
    labels: list[str]
    macc: int
    params: int
    weights: str | None
    metrics: dict | None  # the validation split (the epoch was chosen on it)
    test: dict | None = None  # the held-out test split, when the model was trained with one
    cross_domain: dict | None = None  # ckplus48_dev: another domain, never trained on

    @property
    def budget_fraction(self) -> float:
        return self.macc / REFERENCE_MACC

    def to_dict(self) -> dict:
        d = asdict(self)
        d["budget_fraction"] = self.budget_fraction
        return d


def _cost(name: str, card: dict) -> tuple[int, int]:
    """MACC and params: the card's (measured when it was written; a test keeps them equal to a fresh profile), else
    profiled now (an architecture without a card)."""
    if all(isinstance(card.get(key), int) and card[key] > 0 for key in ("macc", "params")):
        return card["macc"], card["params"]
    from edgeemo.profile import profile

    cost = profile(name)
    return cost.macc, cost.params


def zoo_entries(pattern: str = "*") -> list[ZooEntry]:
    """Every zoo model matching ``pattern``, with its cost (``_cost``), weights and card figures."""
    entries = []
    for name in list_models(pattern):
        spec = get_spec(name)
        weights = weights_path(name)
        facts = zoo_card(name)
        macc, params = _cost(name, facts)
        entries.append(
            ZooEntry(
                name=name,
                description=spec.description,
                input_shape=list(spec.input_shape()),
                channel_order=spec.channel_order,
                labels=list(spec.labels),
                macc=macc,
                params=params,
                weights=str(weights) if weights else None,
                metrics=facts.get("validation"),
                test=facts.get("test"),
                cross_domain=facts.get("cross_domain"),
            )
        )
    return entries
