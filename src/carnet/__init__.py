"""Carnet: an open-source shared health record, one lifelong record per person."""

__version__ = "0.1.0"
