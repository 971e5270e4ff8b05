"""Run the registered benchmarks: a table on stdout and ``bench/results/<scale>.json``."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import Any

from bench import MODULES
from bench.framework import RESULTS_DIR, SCALES, figure_dict, make_context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="demo")
    parser.add_argument("--only", action="append", help="run only this module (repeatable)")
    parser.add_argument("--repeats", type=int, default=2, help="repeats for modules that repeat")
    parser.add_argument("--keep-scratch", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--no-postgis", action="store_true", help="skip the measurements on a PostGIS cluster"
    )
    args = parser.parse_args(argv)
    modules = [
        m for m in MODULES if not args.only or m in args.only or m.split(".")[-1] in args.only
    ]
    ctx = make_context(args.scale, repeats=args.repeats, postgis=not args.no_postgis)
    started = datetime.now(UTC)
    results: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    try:
        for name in modules:
            print(f"== {name} ({args.scale})", file=sys.stderr, flush=True)
            begin = time.perf_counter()
            try:
                module = importlib.import_module(name)
                figures = module.run(ctx)
            except Exception:
                failures[name] = traceback.format_exc()
                print(failures[name], file=sys.stderr)
                continue
            at = datetime.now(UTC).isoformat(timespec="seconds")
            for figure in figures:
                results.append({"module": name, **figure_dict(figure), "measured_at": at})
            print(f"   {time.perf_counter() - begin:.1f} s", file=sys.stderr, flush=True)
    finally:
        ctx.close()
        if not args.keep_scratch:
            shutil.rmtree(ctx.scratch, ignore_errors=True)
    print(render(results))
    write_results(args.scale, ctx.params.to_dict(), started, results, failures)
    return 1 if failures else 0


def render(results: list[dict[str, Any]]) -> str:
    header = ("figure", "value", "unit", "baseline", "ratio", "note / baseline")
    lines = [header]
    for r in results:
        baseline = "" if r["baseline"] is None else f"{r['baseline']:,.3f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.3f}"
        note = r["note"] + (f"  | vs {r['baseline_label']}" if r["baseline_label"] else "")
        lines.append((r["name"], f"{r['value']:,.3f}", r["unit"], baseline, ratio, note))
    widths = [max(len(str(row[i])) for row in lines) for i in range(5)]
    out = []
    for row in lines:
        cells = [
            str(row[i]).rjust(widths[i]) if i in (1, 3, 4) else str(row[i]).ljust(widths[i])
            for i in range(5)
        ]
        out.append("  ".join(cells) + "  " + str(row[5]))
    return "\n".join(out)


def write_results(
    scale: str,
    params: dict[str, Any],
    started: datetime,
    results: list[dict[str, Any]],
    failures: dict[str, str],
) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    document = {
        "scale": scale,
        "params": params,
        "started_at": started.isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "figures": results,
        "failures": failures,
    }
    path = RESULTS_DIR / f"{scale}.json"
    ran = {r["module"] for r in results} | set(failures)
    if path.exists():  # keep the figures of modules this run left out (--only)
        try:
            previous = json.loads(path.read_text())
        except ValueError:
            previous = {}
        kept = [f for f in previous.get("figures", []) if f.get("module") not in ran]
        document["figures"] = kept + results
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    print(f"\nresults: {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
