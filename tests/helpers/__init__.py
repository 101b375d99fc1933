"""Test helpers shared across test packages (an sshd on loopback, ...)."""
