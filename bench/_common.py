"""Shared helpers for the bench scripts: Django setup, statistics, machine info and result files.

Each script writes `bench/results/<name>.csv` (gitignored, raw numbers) and `bench/results/<name>.md`
(a small Markdown section, committed); `bench/results/README.md` is then rebuilt from all sections.
"""

import csv
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
# Order of the sections in results/README.md; unknown sections follow alphabetically.
SECTION_ORDER = ("allowlist", "generate", "detail_rps", "silo", "dpo", "observations", "followup")


def django_setup(*, debug: bool = False) -> None:
    """Settings module, repo root on sys.path, DEBUG off (no query log in memory), then django.setup()."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacy_service.settings")
    os.environ["DEBUG"] = "true" if debug else "false"
    # One client address sends every request of a bench: the API's throttle would measure itself.
    os.environ.setdefault("API_THROTTLE_USER", "100000000/minute")
    import django

    django.setup()


def progress(message: str) -> None:
    """A progress line on stderr, with the wall-clock time."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already *sorted* values."""
    if not values:
        return float("nan")
    rank = max(1, min(len(values), round(pct / 100 * len(values) + 0.5)))
    return values[rank - 1]


def superuser_connection():
    """An autocommit connection as the superuser of scripts/with-postgres.sh's server (ALTER SYSTEM, pg_reload)."""
    import psycopg2

    conn = psycopg2.connect(
        host=os.environ["POSTGRES_SUPERUSER_SOCKET_DIR"],
        port=os.environ["POSTGRES_TEST_PORT"],
        user="postgres",
        dbname="postgres",
    )
    conn.autocommit = True
    return conn


def _proc_stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the command name (which may hold spaces): [0] state, [1] parent,
    [11] utime, [12] stime, [13] cutime, [14] cstime."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree_cpu_seconds(*roots: int) -> float:
    """CPU seconds so far of the processes `roots` and all their descendants, living and ended (an ended child's
    time is in its parent's cutime/cstime once reaped), from one reading of /proc. Other people's jobs are not
    in it, unlike a wall-clock rate; a process that vanishes while /proc is read counts through its parent."""
    stats: dict[int, list[str]] = {}
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _proc_stat(int(entry.name))
            except OSError:
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))

    def ticks(pid: int) -> int:
        fields = stats.get(pid)
        own = sum(int(value) for value in fields[11:15]) if fields else 0
        return own + sum(ticks(child) for child in children.get(pid, ()))

    return sum(ticks(root) for root in roots) / os.sysconf("SC_CLK_TCK")


def postmaster_pid() -> int | None:
    """The PostgreSQL server's process (the parent of this connection's backend), when it runs on this machine
    and /proc lets us read it; else None."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        return int(_proc_stat(backend)[1])
    except (OSError, IndexError, ValueError):
        return None
    finally:
        connection.close()


def summary(values: Iterable[float]) -> dict[str, float]:
    data = sorted(values)
    return {
        "n": len(data),
        "mean": statistics.fmean(data) if data else float("nan"),
        "median": statistics.median(data) if data else float("nan"),
        "p95": percentile(data, 95),
        "p99": percentile(data, 99),
        "min": data[0] if data else float("nan"),
        "max": data[-1] if data else float("nan"),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def code_version() -> str:
    """The commit of the checkout measured (read from .git, no subprocess); uncommitted edits are not seen."""
    git = REPO_ROOT / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return f"commit {head[:7]}"
        ref = head[5:]
        if (git / ref).exists():
            return f"commit {(git / ref).read_text().strip()[:7]}"
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return f"commit {line.split()[0][:7]}"
    except OSError:
        pass
    return "unknown commit"


def machine_line() -> str:
    import django

    mem_gb = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem_gb = f", {pages / 2**30:.0f} GB RAM"
    except (ValueError, OSError):
        pass
    return (
        f"{cpu_model()}, {os.cpu_count()} cores{mem_gb}; Linux {platform.release()}; "
        f"Python {platform.python_version()}, Django {django.get_version()}"
    )


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_csv(name: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_section(name: str, title: str, body: str) -> Path:
    """Write results/<name>.md and rebuild results/README.md from all sections."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    path = RESULTS_DIR / f"{name}.md"
    path.write_text(
        f"## {title}\n\n_Run {stamp} by `bench/{name}.py` on {machine_line()}; {code_version()}._\n\n{body.strip()}\n",
        encoding="utf-8",
    )
    rebuild_readme()
    return path


def rebuild_readme() -> None:
    sections = {p.stem: p for p in RESULTS_DIR.glob("*.md") if p.name != "README.md"}
    ordered = [sections.pop(n) for n in SECTION_ORDER if n in sections] + [sections[n] for n in sorted(sections)]
    parts = [
        "# Benchmark results\n",
        "Generated by the scripts in `bench/` (see `bench/README.md` for what each one measures and how to "
        "run it). Each section below is also in its own file next to this one; raw numbers are in the "
        "(gitignored) CSV files.\n",
    ]
    parts += [p.read_text(encoding="utf-8") for p in ordered]
    (RESULTS_DIR / "README.md").write_text("\n".join(parts), encoding="utf-8")


def save_chart(fig, ax, path: Path, subtitle: str) -> None:
    """A horizontal bar chart's common ending: the run's subtitle at the foot, the legend, the grid, saved."""
    import matplotlib.pyplot as plt

    fig.text(0.5, 0.005, subtitle, ha="center", fontsize=7, color="#555555")
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def fmt(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"
