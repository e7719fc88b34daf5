"""A text progress bar for management commands that work through many rows."""

BAR_WIDTH = 30


def progress_bar(done: int, total: int, *, width: int = BAR_WIDTH) -> str:
    """`[#####.....] 500/1000`: the bar is full when everything is done (or there was nothing to do)."""
    filled = width if total <= 0 else min(width, width * done // total)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def progress_write(stream, done: int, total: int, *, label: str = "") -> None:
    """Show the bar on `stream` (a command's stderr): redrawn in place on a terminal; in a log file, one
    line when the work is done."""
    redraw = stream.isatty()
    if redraw or done == total:
        line = f"{label}{progress_bar(done, total)}"
        stream.write(f"\r{line}" if redraw else line, ending="\n" if done == total else "")
