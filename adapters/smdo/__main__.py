"""python -m adapters.smdo (see adapters/smdo/cli.py)."""

from adapters.smdo.cli import main

raise SystemExit(main())
