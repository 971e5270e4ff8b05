"""Reports superiors ask for, produced from the same data (collect once, reuse everywhere)."""
