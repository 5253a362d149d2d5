"""`python -m bot`: the same as `cadenza bot`."""

import sys

from launch.cli import main

sys.exit(main(["bot", *sys.argv[1:]]))
