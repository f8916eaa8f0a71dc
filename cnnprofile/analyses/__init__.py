"""Pure functions over a recording: op formulas (``formulas``, ``formulas_backward``), the layer rows
(``counts``) and their views, receptive fields (``receptive``), memory traffic and the roofline (``roofline``),
the optional columns joined onto a profile (``enrich``), and peak memory and training steps (``memory``)."""
