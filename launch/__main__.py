"""`python -m launch`: the same as the `cadenza` command."""

import sys

from launch.cli import main

sys.exit(main())
