"""``python -m tinlap``: the command line."""

from tinlap.apps.cli import main

raise SystemExit(main())
