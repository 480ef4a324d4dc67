"""Functions: Lambda-style Python handlers in warm worker processes."""
