"""Sub-commands of ``rural``, one module per area, registered in ``rural.cli``."""
