"""``python -m nextmv_tui``."""

import sys

from nextmv_tui.cli import main

sys.exit(main())
