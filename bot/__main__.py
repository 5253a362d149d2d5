"""`python -m bot`: the same as `cadenza bot`."""

import sys

from bot.cli import main

sys.exit(main(["bot", *sys.argv[1:]]))
