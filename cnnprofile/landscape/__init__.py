"""The landscape: sweeps of many models into a durable store, joined with their published accuracy.

``sweep()`` profiles (``landscape.cells``: every model at every size it was published at) through an executor
(``local``: our process pool; ``ray``: Ray tasks) into a ``Store``; ``landscape()`` / ``landscape_frame()`` read
it back with accuracy joined; ``pick.frontier()`` answers "the most accurate within my budget".
"""
from .accuracy import landscape, landscape_frame
from .pick import Budget, frontier
from .records import SCHEMA_VERSION, Accuracy, LandscapeRow, SweepRow
from .store import Store, StoreError, read_rows
from .sweep import SweepSummary, sweep

__all__ = ["sweep", "SweepSummary", "Store", "StoreError", "read_rows", "landscape", "landscape_frame", "Budget",
           "frontier", "SweepRow", "LandscapeRow", "Accuracy", "SCHEMA_VERSION"]
