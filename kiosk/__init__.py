"""Caja ISSEG domain core and application services.

Nothing in this package imports Qt, SQL or HTTP libraries (a test enforces it): storage,
printing and the network are reached through the interfaces defined here.
"""
