"""A text progress bar for management commands that work through many rows."""

BAR_WIDTH = 30


def progress_bar(done: int, total: int, *, width: int = BAR_WIDTH) -> str:
    """`[#####.....] 500/1000`: the bar is full when everything is done (or there was nothing to do)."""
    filled = width if total <= 0 else min(width, width * done // total)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
