"""Running the whole benchmark and presenting it: tables, JSON, and the cost chart."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

from aggregator.bench.cost import NAIVE, OURS, measure, model
from aggregator.bench.latency import measure_latency
from aggregator.bench.parser import measure_parser
from aggregator.domain import cost

MODEL_SIZES = (10, 100, 1_000, 10_000, 100_000)


def plan(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "measured": [(10, 5), (100, 5)],
            "counters": 5,
            "latency": {"instances": 10, "counters": 10, "rounds": 2, "minute_seconds": 2.0},
            "parser_bytes": 1024 * 1024,
        }
    return {
        "measured": [(10, 50), (100, 30), (1_000, 10)],
        "counters": 10,
        "latency": {"instances": 100, "counters": 100, "rounds": 2, "minute_seconds": 60.0},
        "parser_bytes": 10 * 1024 * 1024,
    }


def run_bench(quick: bool = False, progress=lambda line: None, latency_options: dict | None = None) -> dict[str, Any]:
    from moto.server import ThreadedMotoServer

    from aggregator.adapters.clients import AwsClients
    from aggregator.local.server import LOCAL_CREDENTIALS, silence_local_noise

    silence_local_noise()
    for name, value in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    settings = plan(quick)
    started = time.monotonic()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        clients = AwsClients(f"http://{host}:{port}", "us-east-1")
        measured = []
        for instances, uploads in settings["measured"]:
            for design in (OURS, NAIVE):
                progress(f"cost: {design} design, {instances} instances")
                measured.append(measure(clients, design, instances, settings["counters"], uploads))
    finally:
        server.stop()
    aggregate_share = {m.design: m.aggregate_wcu_per_value for m in measured if m.uploads}
    modelled = [model(design, n, aggregate_share[design]) for n in MODEL_SIZES for design in (OURS, NAIVE)]
    latency_settings = {**settings["latency"], **(latency_options or {})}
    progress(f"latency: {latency_settings['instances']} instances x {latency_settings['counters']} counters")
    latency = measure_latency(**latency_settings)
    progress("parser")
    parser = measure_parser(settings["parser_bytes"])
    return {
        "quick": quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(terse=True),
        },
        "seconds": round(time.monotonic() - started, 1),
        "price": cost.PRICE_SOURCE,
        "measured": [m.as_dict() for m in measured],
        "model": [vars(m) for m in modelled],
        "latency": latency.as_dict(),
        "parser": parser.as_dict(),
    }


def print_tables(result: dict[str, Any]) -> None:
    from aggregator.cli.output import render

    rows = [
        {
            "design": m["design"],
            "instances": m["instances"],
            "item KB": round(m["item_bytes"] / 1024, 1),
            "ingest WCU/value": round(m["ingest_wcu_per_value"], 2),
            "ingest req/file": round(m["ingest_requests_per_file"], 1),
            "moto-reported WCU/value": round(m["ingest_reported_wcu_per_value"], 2),
            "aggregate WCU/value": round(m["aggregate_wcu_per_value"], 3),
            "aggregate req/file": round(m["aggregate_requests_per_file"], 2),
            "note": m["note"],
        }
        for m in result["measured"]
    ]
    columns = [c for c in rows[0] if c != "note" or any(row["note"] for row in rows)]
    render(rows, columns, "table", title="measured on moto: write units per counter value, requests per file")
    rows = [
        {
            "instances": m["instances"],
            "design": m["design"],
            "item KB": round(m["item_bytes"] / 1024, 1),
            "over 400 KB": "yes" if m["over_item_size_limit"] else "no",
            "WCU per write": m["ingest_wcu_per_value"],
            "item WCU/s": round(m["item_wcu_per_second"], 1),
            "over 1000 WCU/s": "yes" if m["over_item_throughput_limit"] else "no",
            "total WCU/value": round(m["total_wcu_per_value"], 2),
            "USD/day": round(m["usd_per_day"], 2),
        }
        for m in result["model"]
    ]
    render(
        rows,
        list(rows[0]),
        "table",
        title=f"model: 100 counters per instance, one upload per instance per minute ({result['price']})",
    )
    latency = result["latency"]
    render(
        [
            {
                "to": "aggregate",
                **{f"p{p}": latency[f"aggregate_p{p}_s"] for p in (50, 95, 99)},
                "observed": latency["aggregates_observed"],
            },
            {
                "to": "alert",
                **{f"p{p}": latency[f"alert_p{p}_s"] for p in (50, 95, 99)},
                "observed": latency["alerts_observed"],
            },
        ],
        ["to", "p50", "p95", "p99", "observed"],
        "table",
        title=(
            f"local freshness, seconds after upload: {latency['instances']} instances x {latency['counters']} "
            f"counters, {latency['rounds']} rounds, a minute = {latency['minute_seconds']} s, "
            f"{latency['uploads']} uploads"
        ),
    )
    tail = latency["drained_after_s"]
    verdict = (
        "kept up"
        if tail <= latency["minute_seconds"] / 2
        else f"saturated at about {latency['counter_writes_per_second']}/s: the delays above are mostly backlog"
    )
    print(
        f"local stack: offered {latency['offered_counter_writes_per_second']} counter writes/s; "
        f"idle again {tail} s after the last minute ended ({verdict})"
    )
    parser = result["parser"]
    print(
        f"parser: {parser['parse_mb_per_s']} MB/s on a {parser['file_mb']} MB file of {parser['counters']} counters; "
        f"bytes.split() alone {parser['split_mb_per_s']} MB/s (parsing takes {parser['ratio']}x as long)"
    )
    machine = result["machine"]
    print(
        f"machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}; "
        f"bench took {result['seconds']} s"
    )


def write_chart(result: dict[str, Any], path: Path) -> Path:
    """Cost per counter value against fleet size, both designs, with the item-size limit marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5))
    for design, colour in ((OURS, "tab:blue"), (NAIVE, "tab:orange")):
        modelled = [m for m in result["model"] if m["design"] == design]
        fits = [m for m in modelled if not m["over_item_size_limit"]]
        axis.plot(
            [m["instances"] for m in fits],
            [m["total_wcu_per_value"] for m in fits],
            "-",
            color=colour,
            label=f"{design} (model)",
        )
        over = [m for m in modelled if m["over_item_size_limit"]]
        axis.plot(
            [m["instances"] for m in over],
            [m["total_wcu_per_value"] for m in over],
            "x",
            color=colour,
            markersize=10,
            label=f"{design}: item over 400 KB",
        )
        measured = [m for m in result["measured"] if m["design"] == design and m["uploads"]]
        axis.plot(
            [m["instances"] for m in measured],
            [m["ingest_wcu_per_value"] + m["aggregate_wcu_per_value"] for m in measured],
            "o",
            color=colour,
            label=f"{design} (measured on moto)",
        )
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("instances in the fleet (each uploads once a minute)")
    axis.set_ylabel("write units per counter value (ingest + aggregate)")
    axis.set_title("DynamoDB write units per counter value against fleet size")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
