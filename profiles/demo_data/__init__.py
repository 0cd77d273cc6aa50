"""Demo data: seeded generator of a retailer's customers, CRM, orders and events (no Django)."""

from .generator import DemoChunk, GeneratorConfig, generate_chunks
from .writers import DatasetManifest, write_dataset

__all__ = ["DatasetManifest", "DemoChunk", "GeneratorConfig", "generate_chunks", "write_dataset"]
