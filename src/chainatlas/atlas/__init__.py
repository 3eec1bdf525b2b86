"""Chain atlas: templates, schema, loader and graph operations."""

from chainatlas.atlas.errors import AtlasError, TemplateIssue
from chainatlas.atlas.loader import load_atlas, parse_template, template_schema
from chainatlas.atlas.model import STAGES, Alignment, Chain, Edge, Node

__all__ = [
    "STAGES",
    "Alignment",
    "AtlasError",
    "Chain",
    "Edge",
    "Node",
    "TemplateIssue",
    "load_atlas",
    "parse_template",
    "template_schema",
]
