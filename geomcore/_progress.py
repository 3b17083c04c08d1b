"""Progress of long enumerations on standard error: a bar redrawn in place on a terminal, one
line per step otherwise (logs, notebooks, CI)."""

import sys

__all__ = ["report"]

_WIDTH = 30


def report(step, total, unit, n_cells, *, line=True):
    """Show that `step` of `total` units (hyperplanes, neurons, trees) are done, with the cell
    count so far. line=False: draw it on a terminal only (for fine-grained steps)."""
    stream = sys.stderr
    filled = _WIDTH * step // max(total, 1)
    text = (f"geomcore.partition: [{'#' * filled}{'.' * (_WIDTH - filled)}] "
            f"{unit} {step}/{total}, {n_cells} cells")
    tty = getattr(stream, "isatty", lambda: False)()
    if tty:
        stream.write("\r" + text + ("\n" if step == total else ""))
        stream.flush()
    elif line:
        print(text, file=stream)
