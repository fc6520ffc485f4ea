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
    def batch(self) -> int:
        """The static batch the graph computes per inference (1 for a dynamic or absent batch dimension)."""
        first = self.input_shape[0] if self.input_shape else 1
        return first if isinstance(first, int) and first > 1 else 1

    @property
    def macc_per_image(self) -> int:
        """MACC for one face: what the budget (the reference at batch 1) is about."""
        return self.macc // self.batch

    @property
    def budget_fraction(self) -> float:
        return self.macc_per_image / self.budget_macc

    @property
    def within_budget(self) -> bool:
        return self.macc_per_image <= self.budget_macc

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(batch=self.batch, macc_per_image=self.macc_per_image, budget_fraction=self.budget_fraction,
                 within_budget=self.within_budget)
        return d
