"""Profile results as dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from edgeemo.reference import REFERENCE_MACC


@dataclass
class LayerCost:
    name: str
    op: str
    output_shape: list[int]
    macc: int
    params: int


@dataclass
class Profile:
    source: str
    input_shape: list[int]
    macc: int
    params: int
    activations: int
    weight_bytes: int
    layers: list[LayerCost] = field(default_factory=list)
    budget_macc: int = REFERENCE_MACC
    resolved: dict | None = None  # what MODEL resolved to, when profiled through edgeemo.resolve

    @property
    def budget_fraction(self) -> float:
        return self.macc / self.budget_macc

    @property
    def within_budget(self) -> bool:
        return self.macc <= self.budget_macc

    def to_dict(self) -> dict:
        d = asdict(self)
        d["budget_fraction"] = self.budget_fraction
        d["within_budget"] = self.within_budget
        return d
