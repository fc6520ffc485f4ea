"""One way to open a model: ``reference`` (what a MODEL names) -> ``load`` (the source model and its facts) ->
``graph`` (an OpenVINO graph for counting). Deployment artifacts are opened by the runtime layer (edgeemo.runtime)."""

from edgeemo.sources.graph import openvino_graph
from edgeemo.sources.load import Overrides, SourceModel, load_checkpoint_into, load_source, parse_kwargs
from edgeemo.sources.reference import MAX_SIDE, SOURCE_FORMATS, Source, parse_shape, resolve

__all__ = ["MAX_SIDE", "SOURCE_FORMATS", "Overrides", "Source", "SourceModel", "load_checkpoint_into", "load_source",
           "openvino_graph", "parse_kwargs", "parse_shape", "resolve"]
