"""Benchmarks: ``python -m bench --scale demo|province`` (``make bench SCALE=...``).

Each module listed in ``MODULES`` has ``run(ctx: bench.framework.Context) -> list[Figure]``;
``ctx`` offers the scale's generated dataset (cached in ``bench/.cache/``, keyed by its
parameters and the generator's source), a SQLite database holding it, and a scratch folder.
Every figure should come with a baseline measured in the same run. To add a benchmark, write
the module and append its name here.
"""

MODULES: list[str] = [
    "bench.load",
    "bench.spatial",
    "bench.indicators",
    "bench.api",
    "bench.maps",
]
