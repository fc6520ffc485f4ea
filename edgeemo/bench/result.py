"""What one benchmark run reports (saved as JSON, printed by the CLI, read by report)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from edgeemo.runtime.measure import LatencyStats


@dataclass
class BenchResult:
    model: str
    runtime: str
    device: str
    device_name: str
    mode: str
    threads: int | None
    streams: int
    batch: int
    iterations: int
    latency_ms: LatencyStats
    wall_ms: LatencyStats  # the blocking call as the calling program sees it
    latency_source: str
    throughput_fps: float
    compile_ms: float
    first_inference_ms: float
    precision: str
    input: str  # what was fed: random pixels (normalised as the card says) or "faces from DIR"
    end_to_end_ms: LatencyStats | None = None  # decode + preprocess + infer of one real image
    preprocess_ms: LatencyStats | None = None  # its decode + preprocess part, same iterations
    environment: dict = field(default_factory=dict)
    host_note: str | None = None
    resolved: dict | None = None  # what MODEL resolved to (edgeemo.resolve.ResolvedModel)

    def to_dict(self) -> dict:
        return asdict(self)
