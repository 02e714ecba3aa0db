"""Offline demo feeds: invented agency news served as live RSS (see pipeline.demo.server).

Nothing is imported here, so ``python -m pipeline.demo.server`` runs without a double import.
"""
