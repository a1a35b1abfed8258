"""``python -m newsqa.cli``: the ``newsqa`` command."""

from __future__ import annotations

import sys

from newsqa.cli import main

sys.exit(main())
