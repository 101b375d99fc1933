"""``python -m simulator``: the simulator's command line on its own."""

from simulator.cli import main

main()
