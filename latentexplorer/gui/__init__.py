"""gui subpackage."""
