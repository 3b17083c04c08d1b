"""A guard that stops an enumeration with a clear error before it exhausts memory."""

import os

from geomcore.errors import TooLargeError

__all__ = ["available_bytes", "check_fits"]

# measured peak bytes per finished cell, with walls and hinges (asv peakmem_ runs): about
# 16 KB for 2-D networks and 10 KB for 3-D arrangements; boxes need less
BYTES_PER_CELL = 16_000


def available_bytes():
    """Memory the system can still give this process (MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(n_cells, where, bound=None, bytes_per_cell=BYTES_PER_CELL):
    """Raise TooLargeError when n_cells cells (the count so far) would not fit in memory.

    where : str, e.g. "after 12 of 40 hyperplanes"; bound : the most cells the partition can
    reach, quoted in the message when known.
    """
    free = available_bytes()
    if free is None or n_cells * bytes_per_cell <= free:
        return
    upto = f"; it may reach {bound} cells" if bound is not None else ""
    raise TooLargeError(
        f"the partition has {n_cells} cells {where}{upto}; that needs about "
        f"{n_cells * bytes_per_cell / 2**30:.1f} GiB and {free / 2**30:.1f} GiB are available. "
        f"Use a smaller domain or model, or max_cells to stop earlier")
