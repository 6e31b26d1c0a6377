"""``python -m raftlab``: the raftlab command line (see ``raftlab.cli``)."""

import sys

from .cli import main

sys.exit(main())
