"""Per-title ladders (``--ladder per-title``): rungs chosen on the title's own rate–quality curves, measured in VMAF.

    curve.py     ProbePoint, Curve (one resolution), convex_hull          pure
    rungs.py     PerTitleOptions, choose_rungs (curves → rungs)           pure
    probe.py     sampled scenes, CRF probe encodes, their VMAF            effects
    analysis.py  analyse (probe → curves → hull → rungs), PerTitle report
"""
