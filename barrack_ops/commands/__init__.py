"""Recipe commands as plain typer-ready functions; ``barrack_ops.cli`` registers them."""
