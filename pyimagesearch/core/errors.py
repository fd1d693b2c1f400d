"""The one error type library code raises for problems the person running a command can fix.

A ``RunError`` (a ``ValueError``) says in one sentence what is wrong with a
file, a folder, a disk, a checkpoint, a peer or ``TF_CONFIG`` and what to do.
Library modules raise it or a subclass (``outputs.OutputError``,
``run.RunFolderError``, ``records.RecordError``, ...); only the command line
(``cli.run``) turns it into ``error: <sentence>`` and exit status 2, as it does
for its own ``cli.UserError`` (bad flags). Programming errors still raise.
"""

from __future__ import annotations


class RunError(ValueError):
    """A problem of a run's inputs or surroundings, stated in one sentence a person can act on."""
