"""A progress bar through a fit's stages, on stderr (tqdm).

Shown where ``verbose`` is true, or where it is None (the default) and stderr
is a terminal; silent in pipes, logs, notebooks' captured output and tests.
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

__all__ = ["Stages", "STAGES"]

#: A sparse fit's stages, in order (a stage a fit skips is passed over).
STAGES = ("screen inputs", "library", "search", "other routes", "intervals", "verdict",
          "estimate on the other rows")


class Stages:
    """Advance with :meth:`done` as each stage ends; :meth:`close` at the end.

    Examples
    --------
    >>> bar = Stages(verbose=False)
    >>> bar.done("library"); bar.done("search"); bar.close()
    """

    def __init__(self, verbose: bool | None) -> None:
        enabled = sys.stderr.isatty() if verbose is None else bool(verbose)
        self._bar = tqdm(total=len(STAGES), file=sys.stderr, disable=not enabled, leave=False,
                         desc="discover", bar_format="{desc}: {bar:20} {n}/{total} "
                                                     "[{elapsed}] {postfix}")
        self._started = time.perf_counter()

    def done(self, stage: str) -> None:
        """Mark ``stage`` (one of :data:`STAGES`) finished; the next one is shown."""
        position = STAGES.index(stage) + 1
        if position > self._bar.n:
            self._bar.update(position - self._bar.n)
        if position < len(STAGES):
            self._bar.set_postfix_str(STAGES[position])

    def close(self) -> None:
        self._bar.close()
