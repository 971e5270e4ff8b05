"""The demo county (示例数据): a deterministic, realistic fictional county (or province) with
planted faults listed in a manifest, and the loader that puts it into a database."""

from rural.demo.generate import DemoDataset, generate, source_hash
from rural.demo.loader import load_demo
from rural.demo.manifest import (
    ChainBreak,
    FailingSample,
    FaultySewageFacility,
    LaggingVillage,
    Manifest,
    OverdueProblem,
)
from rural.demo.params import DemoParams

__all__ = [
    "ChainBreak",
    "DemoDataset",
    "DemoParams",
    "FailingSample",
    "FaultySewageFacility",
    "LaggingVillage",
    "Manifest",
    "OverdueProblem",
    "generate",
    "load_demo",
    "source_hash",
]
