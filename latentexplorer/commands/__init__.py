"""One module per CLI command: ``register(subparsers)`` sets ``handler``."""
