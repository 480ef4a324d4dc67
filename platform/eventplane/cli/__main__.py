"""`python -m eventplane.cli ...` is the `eventplane` command."""

import sys

from eventplane.cli import main

sys.exit(main())
