"""The ``newsqa`` command: thin over the public Python API (``import newsqa`` only).

Results go to stdout (human text, or the JSON contract with ``--json``);
progress, the endpoint in use and the tokens spent go to stderr. User and
configuration errors exit 2 with one line, failures of the model endpoint exit 1
with one line; neither shows a traceback.

:mod:`~newsqa.cli.parser` holds the options, :mod:`~newsqa.cli.commands` one function
per subcommand, :mod:`~newsqa.cli.text` the plain-text renderers and
:mod:`~newsqa.cli.session` what one run shares (client, status lines, tokens spent)
and :mod:`~newsqa.cli.exits` the exit statuses.
"""

from __future__ import annotations

from newsqa.cli.app import main
from newsqa.cli.exits import EXIT_FAILURE, EXIT_USAGE

__all__ = ["EXIT_FAILURE", "EXIT_USAGE", "main"]
