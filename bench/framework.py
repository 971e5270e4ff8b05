"""The benchmark framework: figures with their baselines, the context handed to each module,
and the on-disk cache of generated datasets.

A benchmark module has ``run(ctx: Context) -> list[Figure]``. Every figure should carry a
baseline measured in the same run (``baseline``, ``baseline_label``); the runner prints the
ratio value / baseline beside it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from rural.db import make_engine
from rural.demo import DemoDataset, DemoParams, generate, source_hash

BENCH_DIR = Path(__file__).parent
CACHE_DIR = BENCH_DIR / ".cache"
RESULTS_DIR = BENCH_DIR / "results"
SCALES: dict[str, DemoParams] = {
    "demo": DemoParams(),
    "province": DemoParams(villages=20_000, households=5_000_000),
}


@dataclass(frozen=True)
class Figure:
    """One measured number, beside the baseline measured in the same run."""

    name: str
    value: float
    unit: str
    note: str = ""
    baseline: float | None = None
    baseline_label: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


def figure_dict(figure: Any) -> dict[str, Any]:
    """Any figure-like object (name, value, unit, optional note/baseline) as a dict."""
    if isinstance(figure, Figure):
        return figure.to_dict()
    baseline = getattr(figure, "baseline", None)
    value = float(figure.value)
    return {
        "name": str(figure.name),
        "value": value,
        "unit": str(figure.unit),
        "note": str(getattr(figure, "note", "")),
        "baseline": baseline,
        "baseline_label": str(getattr(figure, "baseline_label", "")),
        "ratio": value / baseline if baseline else None,
    }


def dataset_key(params: DemoParams) -> str:
    """What a cached dataset depends on: its parameters and the generator's source."""
    text = params.to_json() + source_hash()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class CachedDataset:
    dataset: DemoDataset
    generation_seconds: float
    built_at: str
    read_seconds: float | None  # None when generated in this run


@contextmanager
def cache_lock(cache_dir: Path, scale: str) -> Iterator[None]:
    """One process at a time builds or replaces a scale's cache files; the others wait and
    then find them built."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / f"{scale}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _temporary(path: Path) -> Path:
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")


def cached_dataset(
    params: DemoParams, cache_dir: Path, *, scale: str, key: str | None = None
) -> CachedDataset:
    """The dataset for ``params`` from ``cache_dir``, generated and stored on a miss. A stale
    file of the same scale (other parameters or generator source) is removed."""
    with cache_lock(cache_dir, scale):
        return _cached_dataset(params, cache_dir, scale=scale, key=key or dataset_key(params))


def _cached_dataset(params: DemoParams, cache_dir: Path, *, scale: str, key: str) -> CachedDataset:
    data_path = cache_dir / f"dataset-{scale}-{key}.pkl"
    meta_path = data_path.with_suffix(".json")
    if data_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        start = time.perf_counter()
        with data_path.open("rb") as handle:
            dataset: DemoDataset = pickle.load(handle)  # noqa: S301 (our own cache file)
        return CachedDataset(
            dataset, meta["generation_seconds"], meta["built_at"], time.perf_counter() - start
        )
    for stale in cache_dir.glob(f"dataset-{scale}-*"):
        stale.unlink()
    start = time.perf_counter()
    dataset = generate(params)
    seconds = time.perf_counter() - start
    partial = _temporary(data_path)
    with partial.open("wb") as handle:
        pickle.dump(dataset, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(data_path)
    built_at = datetime.now(UTC).isoformat(timespec="seconds")
    meta = {
        "params": params.to_dict(),
        "generator": source_hash(),
        "generation_seconds": seconds,
        "built_at": built_at,
        "rows": dataset.rows,
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return CachedDataset(dataset, seconds, built_at, None)


@dataclass
class Context:
    """What a benchmark module gets: the scale, the cached dataset, a scratch folder."""

    scale: str
    params: DemoParams
    cache_dir: Path
    scratch: Path
    repeats: int = 2
    postgis: bool = True  # modules may also measure on a throwaway PostGIS cluster
    key: str = ""  # the cache key, fixed when the run starts (see dataset_key)
    _cached: CachedDataset | None = None
    _database: Path | None = None
    _engines: list[Engine] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.key:
            self.key = dataset_key(self.params)

    @property
    def cached(self) -> CachedDataset:
        if self._cached is None:
            self._cached = cached_dataset(
                self.params, self.cache_dir, scale=self.scale, key=self.key
            )
        return self._cached

    def dataset(self) -> DemoDataset:
        """The generated dataset of this scale (from the disk cache when unchanged)."""
        return self.cached.dataset

    def scratch_dir(self, name: str) -> Path:
        path = self.scratch / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def database(self) -> Path:
        """A SQLite file holding this scale's dataset, cached beside it; read it, do not write
        it (copy it into the scratch folder first)."""
        if self._database is not None:
            return self._database
        path = self.cache_dir / f"database-{self.scale}-{self.key}.db"
        dataset = self.dataset()
        with cache_lock(self.cache_dir, self.scale):
            if not path.exists():
                for stale in self.cache_dir.glob(f"database-{self.scale}-*"):
                    stale.unlink()
                from rural import migrate
                from rural.demo.loader import write_dataset

                partial = self.scratch_dir("database") / path.name
                engine = make_engine(f"sqlite:///{partial}")
                migrate.upgrade(engine)
                write_dataset(engine, dataset, actor="bench")
                engine.dispose()
                shutil.move(partial, _temporary(path))
                _temporary(path).replace(path)
        self._database = path
        return path

    def adopt_database(self, path: Path) -> None:
        """Keep a freshly loaded database of this scale's dataset as the cached one (a module
        that has just timed a load saves the next one the work)."""
        target = self.cache_dir / f"database-{self.scale}-{self.key}.db"
        with cache_lock(self.cache_dir, self.scale):
            if self._database is None and not target.exists():
                for stale in self.cache_dir.glob(f"database-{self.scale}-*"):
                    stale.unlink()
                shutil.move(path, _temporary(target))
                _temporary(target).replace(target)
                self._database = target

    def engine(self) -> Engine:
        """An engine on :meth:`database` (disposed when the run ends)."""
        engine = make_engine(f"sqlite:///{self.database()}")
        self._engines.append(engine)
        return engine

    def province_engine(self) -> Engine | None:
        """The province-scale database, when this run is at province scale."""
        return self.engine() if self.scale == "province" else None

    def close(self) -> None:
        for engine in self._engines:
            engine.dispose()
        self._engines.clear()


def make_context(
    scale: str, *, repeats: int = 2, postgis: bool = True, cache_dir: Path = CACHE_DIR
) -> Context:
    if scale not in SCALES:
        msg = f"scale must be one of {sorted(SCALES)}, got {scale!r}"
        raise ValueError(msg)
    scratch = Path(tempfile.mkdtemp(prefix=f"rural-bench-{scale}-"))
    return Context(
        scale=scale,
        params=SCALES[scale],
        cache_dir=cache_dir,
        scratch=scratch,
        repeats=repeats,
        postgis=postgis,
        key=dataset_key(SCALES[scale]),
    )
