"""`python -m crawler <command>`: see crawler/cli/."""

import sys

from crawler.cli import main

sys.exit(main())
