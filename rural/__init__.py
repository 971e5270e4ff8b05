"""rural: the rural living environment and civilized-village selection system (domain core)."""

__version__ = "0.1.0"
