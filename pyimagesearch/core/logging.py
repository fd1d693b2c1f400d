"""The one run log: print progress lines and keep them in a text file."""

from __future__ import annotations

import os
from pathlib import Path

from pyimagesearch.core.outputs import write_text


class RunLog:
    """Print progress lines and keep them in ``path`` (rewritten whole, atomically, after every line).

    With ``append`` the lines already in the file are kept (a resumed run or a
    sweep that goes on); ``echo=False`` keeps the lines in the file only.
    """

    def __init__(self, path: str | os.PathLike, echo: bool = True, append: bool = False):
        self.path = Path(path)
        self.echo = echo
        self.lines: list[str] = self.path.read_text(encoding="utf-8").splitlines() if append and self.path.is_file() else []

    def __call__(self, line: str, echo: bool | None = None) -> None:
        if self.echo if echo is None else echo:
            print(line, flush=True)
        self.lines.append(line)
        write_text(self.path, "\n".join(self.lines) + "\n")
