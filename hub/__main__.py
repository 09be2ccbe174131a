"""`python -m hub`: the same as the `hub` command."""

import sys

from hub.cli.main import main

sys.exit(main())
