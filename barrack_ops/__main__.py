"""``python -m barrack_ops``."""

from barrack_ops.cli import main

main()
