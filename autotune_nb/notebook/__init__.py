"""The notebook layer: cells become trial programs, studies become pictures."""
