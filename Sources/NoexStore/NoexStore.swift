// The NoexStore module; see docs/architecture.md for what it owns.
