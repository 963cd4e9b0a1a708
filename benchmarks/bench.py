"""Benchmark: the clinic assistant ("ours") against Rasa's stock starter ("baseline").

Run by ``make bench`` as ``.venv/bin/python -m benchmarks.bench``. For each assistant,
one after the other on this machine: training time (``rasa train --force`` into a temp
dir), startup time (process start until the servers answer and a first message gets a
200), message latency p50/p95 and throughput at each concurrency level through the REST
channel on loopback, and the peak summed RSS of the server's process tree under load.
The table goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import conversations
from benchmarks.loadgen import LevelResult, Script, run_level
from benchmarks.servers import (
    BenchError,
    RssSampler,
    RunningServer,
    ServerSpec,
    free_port,
    run_timed,
)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ASSISTANTS = ("ours", "baseline")
THROUGHPUT_TARGET = 3.0  # ours must answer at least this many times baseline's msg/s


def rasa_bin() -> str:
    """The ``rasa`` script next to the running interpreter (the project's venv)."""
    candidate = VENV_BIN / "rasa"
    return str(candidate) if candidate.exists() else "rasa"


def load_average() -> float:
    """The machine's 1-minute load average (other work skews every figure here)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def progress(message: str) -> None:
    """Tell the person waiting what the benchmark is doing (stderr, timestamped)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class AssistantResult:
    """Everything measured for one assistant."""

    name: str
    training_s: float | None = None
    startup_s: float | None = None
    peak_rss_kib: int | None = None
    rss_samples: int = 0
    levels: dict[int, LevelResult] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "training_s": self.training_s,
            "startup_s": self.startup_s,
            "peak_rss_mib": self.peak_rss_kib / 1024.0 if self.peak_rss_kib else None,
            "rss_samples": self.rss_samples,
            "levels": {str(c): level.summary() for c, level in self.levels.items()},
        }


@dataclass
class Options:
    """The parsed command line."""

    only: str | None
    levels: list[int]
    messages: int
    warmup: int
    level_timeout_s: float
    startup_timeout_s: float
    train_timeout_s: float
    skip_training: bool
    json_path: Path | None
    keep_tmp: bool
    strict: bool


def measure_load(server: RunningServer, scripts: Sequence[Script], opts: Options, result: AssistantResult) -> None:
    """Warm up, then run every level while sampling the server tree's RSS."""
    with RssSampler(server.proc.pid) as sampler:
        if opts.warmup > 0:
            warm_c = min(4, max(opts.levels))
            progress(f"{result.name}: warm-up, {opts.warmup} messages at concurrency {warm_c}")
            warm = asyncio.run(
                run_level(
                    server.spec.webhook_url,
                    scripts,
                    warm_c,
                    opts.warmup,
                    max_seconds=opts.level_timeout_s,
                    sender_prefix=f"warmup-{result.name}",
                )
            )
            if warm.errors:
                progress(f"{result.name}: warning: {warm.errors} failed requests during warm-up")
        for concurrency in opts.levels:
            progress(f"{result.name}: {opts.messages} messages at concurrency {concurrency}")
            level = asyncio.run(
                run_level(
                    server.spec.webhook_url,
                    scripts,
                    concurrency,
                    opts.messages,
                    max_seconds=opts.level_timeout_s,
                    sender_prefix=f"bench-{result.name}",
                )
            )
            result.levels[concurrency] = level
            progress(
                f"{result.name}: c={concurrency}: {level.completed} answered, "
                f"{level.errors} errors, {level.throughput:.1f} msg/s, "
                f"p50 {_fmt(level.latency_ms(50))} ms, p95 {_fmt(level.latency_ms(95))} ms"
            )
    result.peak_rss_kib = sampler.peak_kib
    result.rss_samples = sampler.samples


def serve_and_measure(
    make_spec: Callable[[int], ServerSpec],
    scripts: Sequence[Script],
    opts: Options,
    result: AssistantResult,
    retry_if: Callable[[], bool] = lambda: False,
) -> None:
    """Start the assistant, time its startup, load it, and always stop it.

    ``retry_if`` is asked after a start: when it says the start did extra one-off
    work (e.g. trained a model), the server is stopped and started once more.
    """
    for attempt in (1, 2):
        spec = make_spec(attempt)
        progress(f"{result.name}: starting ({' '.join(spec.argv[:4])} ...), log {spec.log_path}")
        server = RunningServer(spec)
        try:
            result.startup_s = server.wait_ready(opts.startup_timeout_s)
            progress(f"{result.name}: ready after {result.startup_s:.1f} s")
            if attempt == 1 and retry_if():
                progress(f"{result.name}: the start trained a model; restarting to time a plain start")
                continue
            measure_load(server, scripts, opts, result)
            return
        finally:
            server.stop()


def bench_baseline(tmp: Path, opts: Options) -> AssistantResult:
    """Rasa's starter assistant from ``rasa init``, as generated, with no action server."""
    result = AssistantResult("baseline")
    project = tmp / "baseline"
    project.mkdir()
    progress("baseline: rasa init --no-prompt (creates the starter project and trains it once)")
    run_timed(
        [rasa_bin(), "init", "--no-prompt", "--init-dir", str(project)],
        cwd=tmp,
        log_path=tmp / "baseline-init.log",
        timeout_s=opts.train_timeout_s,
    )
    model: Path = project / "models"
    if not opts.skip_training:
        out = tmp / "baseline-models"
        progress("baseline: timing rasa train --force")
        result.training_s = run_timed(
            [rasa_bin(), "train", "--force", "--out", str(out), "--fixed-model-name", "baseline"],
            cwd=project,
            log_path=tmp / "baseline-train.log",
            timeout_s=opts.train_timeout_s,
        )
        model = out / "baseline.tar.gz"
        progress(f"baseline: trained in {result.training_s:.1f} s")

    def make_spec(attempt: int) -> ServerSpec:
        """The stock ``rasa run`` with the generated credentials and endpoints."""
        port = free_port()
        return ServerSpec(
            name="baseline",
            argv=[
                rasa_bin(),
                "run",
                "--model",
                str(model),
                "--interface",
                "127.0.0.1",
                "--port",
                str(port),
                "--credentials",
                "credentials.yml",
                "--endpoints",
                "endpoints.yml",
            ],
            cwd=project,
            log_path=tmp / f"baseline-run-{attempt}.log",
            rasa_port=port,
        )

    serve_and_measure(make_spec, conversations.BASELINE, opts, result)
    return result


def _models_state() -> dict[str, float]:
    """Names and modification times of the project's trained models."""
    models = ROOT / "models"
    if not models.is_dir():
        return {}
    return {p.name: p.stat().st_mtime for p in models.iterdir()}


def bench_ours(tmp: Path, opts: Options) -> AssistantResult:
    """The clinic assistant, started the way the project runs it (``python -m bot run``)."""
    result = AssistantResult("ours")
    if not opts.skip_training:
        progress("ours: timing rasa train --force")
        result.training_s = run_timed(
            [rasa_bin(), "train", "--force", "--domain", str(ROOT / "domain"), "--out", str(tmp / "ours-models")],
            cwd=ROOT,
            log_path=tmp / "ours-train.log",
            timeout_s=opts.train_timeout_s,
        )
        progress(f"ours: trained in {result.training_s:.1f} s")
    # `bot run` trains first when models/ is stale; do that untimed so startup is startup.
    progress("ours: python -m bot train (untimed; trains only if models/ is stale)")
    run_timed(
        [sys.executable, "-m", "bot", "train"],
        cwd=ROOT,
        log_path=tmp / "ours-prepare.log",
        timeout_s=opts.train_timeout_s,
    )
    before = _models_state()

    def make_spec(attempt: int) -> ServerSpec:
        """``python -m bot run`` on free ports with a fresh var dir and a fixed today."""
        rasa_port, action_port = free_port(), free_port()
        while action_port == rasa_port:
            action_port = free_port()
        var_dir = tmp / f"ours-var-{attempt}"
        env = {
            "RASA_PORT": str(rasa_port),
            "ACTION_PORT": str(action_port),
            "CLINIC_VAR_DIR": str(var_dir),
            "CLINIC_TODAY": conversations.CLINIC_TODAY,
            "CLINIC_BIND_HOST": "127.0.0.1",
            # The embedded defaults, spelled out so a developer's .env cannot redirect them.
            "CLINIC_DATABASE_URL": f"sqlite:///{var_dir / 'clinic.db'}",
            "TRACKER_STORE_URL": f"sqlite:///{var_dir / 'tracker.db'}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
            "REDIS_URL": "",
        }
        return ServerSpec(
            name="ours",
            argv=[sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            log_path=tmp / f"ours-run-{attempt}.log",
            rasa_port=rasa_port,
            env=env,
            health_urls=[f"http://127.0.0.1:{action_port}/health"],
            extra_log_dirs=[var_dir / "log"],
        )

    serve_and_measure(make_spec, conversations.OURS, opts, result, retry_if=lambda: _models_state() != before)
    return result


def _fmt(value: float | None, digits: int = 1) -> str:
    """A number for the table, or '-' when it was not measured."""
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio(ours: float | None, baseline: float | None) -> float | None:
    """ours / baseline, None when either is missing or baseline is zero."""
    if ours is None or baseline is None or baseline == 0:
        return None
    return ours / baseline


Cell = float | str | None


def _count_cell(level: LevelResult) -> str:
    """'answered / errors' for a level, flagging empty replies and a hit deadline."""
    text = f"{level.completed} / {level.errors}"
    if level.empty_replies:
        text += f" ({level.empty_replies} empty)"
    return text + (" TIMEOUT" if level.timed_out else "")


def table_rows(levels: Sequence[int]) -> list[tuple[str, str, Callable[[AssistantResult], Cell]]]:
    """(metric label, which way is better, getter) for every row of the table."""

    def at(c: int, get: Callable[[LevelResult], Cell]) -> Callable[[AssistantResult], Cell]:
        """A getter for level ``c`` that yields None when the level was not run."""
        return lambda r: get(r.levels[c]) if c in r.levels else None

    rows: list[tuple[str, str, Callable[[AssistantResult], Cell]]] = [
        ("training time (s)", "lower", lambda r: r.training_s),
        ("startup time (s)", "lower", lambda r: r.startup_s),
        ("peak RSS under load (MiB)", "lower", lambda r: r.peak_rss_kib / 1024.0 if r.peak_rss_kib else None),
    ]
    for c in levels:
        rows += [
            (f"latency p50 @{c} (ms)", "lower", at(c, lambda lv: lv.latency_ms(50))),
            (f"latency p95 @{c} (ms)", "lower", at(c, lambda lv: lv.latency_ms(95))),
            (f"throughput @{c} (msg/s)", "higher", at(c, lambda lv: lv.throughput)),
            (f"answered / errors @{c}", "", at(c, _count_cell)),
        ]
    return rows


def render(results: dict[str, AssistantResult], levels: Sequence[int]) -> tuple[str, list[dict[str, Any]]]:
    """The plain-text table and the target verdicts."""
    ours, base = results.get("ours"), results.get("baseline")
    header = ("metric", "ours", "baseline", "ratio", "better")
    lines: list[tuple[str, ...]] = [header]
    for label, better, get in table_rows(levels):
        o = get(ours) if ours else None
        b = get(base) if base else None
        if isinstance(o, str) or isinstance(b, str):
            lines.append((label, o or "-", b or "-", "", better))  # type: ignore[arg-type]
            continue
        lines.append((label, _fmt(o), _fmt(b), _fmt(_ratio(o, b), 2), better))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = []
    for n, row in enumerate(lines):
        out.append(
            "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))

    targets: list[dict[str, Any]] = []
    if ours and base:
        top = max(levels)
        o_tp = ours.levels[top].throughput if top in ours.levels else None
        b_tp = base.levels[top].throughput if top in base.levels else None
        ratio = _ratio(o_tp, b_tp)
        targets.append(
            {
                "target": f"ours throughput @{top} >= {THROUGHPUT_TARGET:g}x baseline",
                "observed": f"{_fmt(ratio, 2)}x ({_fmt(o_tp)} vs {_fmt(b_tp)} msg/s)",
                "holds": ratio is not None and ratio >= THROUGHPUT_TARGET,
            }
        )
        for c in levels:
            o_p = ours.levels[c].latency_ms(95) if c in ours.levels else None
            b_p = base.levels[c].latency_ms(95) if c in base.levels else None
            targets.append(
                {
                    "target": f"ours p95 @{c} < baseline p95 @{c}",
                    "observed": f"{_fmt(o_p)} ms vs {_fmt(b_p)} ms",
                    "holds": o_p is not None and b_p is not None and o_p < b_p,
                }
            )
    return "\n".join(out), targets


def parse_args(argv: Sequence[str] | None) -> Options:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description="Benchmark the clinic assistant against Rasa's starter assistant.",
    )
    parser.add_argument("--only", choices=ASSISTANTS, help="measure one assistant only")
    parser.add_argument(
        "--levels", default="1,16", help="comma-separated concurrent conversations per level (default 1,16)"
    )
    parser.add_argument(
        "--messages", type=int, default=480, help="messages per level, shared by all conversations (default 480)"
    )
    parser.add_argument("--warmup", type=int, default=40, help="warm-up messages before the first level (default 40)")
    parser.add_argument(
        "--level-timeout", type=float, default=240.0, help="stop a level after this many seconds (default 240)"
    )
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=180.0,
        help="fail when a server is not ready after this many seconds (default 180)",
    )
    parser.add_argument(
        "--train-timeout", type=float, default=900.0, help="fail when training takes longer than this (default 900)"
    )
    parser.add_argument("--skip-training", action="store_true", help="do not time `rasa train --force` (quicker runs)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (projects, models, logs)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target does not hold")
    args = parser.parse_args(argv)
    try:
        levels = [int(part) for part in args.levels.split(",") if part.strip()]
    except ValueError:
        parser.error(f"--levels must be comma-separated integers, got {args.levels!r}")
    if not levels or min(levels) < 1 or args.messages < 1 or args.warmup < 0:
        parser.error("levels and --messages must be >= 1, --warmup >= 0")
    return Options(
        only=args.only,
        levels=levels,
        messages=args.messages,
        warmup=args.warmup,
        level_timeout_s=args.level_timeout,
        startup_timeout_s=args.startup_timeout,
        train_timeout_s=args.train_timeout,
        skip_training=args.skip_training,
        json_path=args.json,
        keep_tmp=args.keep_tmp,
        strict=args.strict,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when it measured (and, with --strict, the targets hold)."""
    opts = parse_args(argv)
    load_before = load_average()
    if load_before > 0.5 * (os.cpu_count() or 1):
        progress(
            f"warning: load average is {load_before:.1f} before starting; "
            "other work on this machine will skew the figures"
        )
    tmp = Path(tempfile.mkdtemp(prefix="clinic-bench-"))
    started = time.perf_counter()
    results: dict[str, AssistantResult] = {}
    ok = False
    try:
        if opts.only in (None, "baseline"):
            results["baseline"] = bench_baseline(tmp, opts)
        if opts.only in (None, "ours"):
            results["ours"] = bench_ours(tmp, opts)
        ok = True
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        print(f"(files kept in {tmp})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("benchmark interrupted", file=sys.stderr)
        return 130
    finally:
        if ok and not opts.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        elif ok:
            progress(f"files kept in {tmp}")

    text, targets = render(results, opts.levels)
    total = time.perf_counter() - started
    print()
    print(
        f"Clinic assistant vs Rasa starter (rasa init) - {dt.date.today().isoformat()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load_before:.1f} before / {load_average():.1f} after"
    )
    print(
        f"{opts.messages} messages per level after {opts.warmup} warm-up messages; "
        f"REST channel on loopback; latency percentiles are nearest-rank; ratio = ours / baseline"
    )
    print()
    print(text)
    print()
    if targets:
        print("Targets:")
        for target in targets:
            verdict = "HOLDS" if target["holds"] else "MISSED"
            print(f"  [{verdict}] {target['target']}: {target['observed']}")
    else:
        print("Targets: not checked (needs both assistants)")
    print(f"\nBenchmark took {total:.0f} s.")

    if opts.json_path:
        payload = {
            "date": dt.datetime.now().isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "load_average_before": load_before,
                "load_average_after": load_average(),
            },
            "options": {
                "levels": opts.levels,
                "messages": opts.messages,
                "warmup": opts.warmup,
                "clinic_today": conversations.CLINIC_TODAY,
            },
            "percentile_method": "nearest-rank",
            "assistants": {name: r.summary() for name, r in results.items()},
            "targets": targets,
            "total_s": total,
        }
        opts.json_path.parent.mkdir(parents=True, exist_ok=True)
        opts.json_path.write_text(json.dumps(payload, indent=2) + "\n")
    if opts.strict and targets and not all(t["holds"] for t in targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
