"""The pure domain core: rules of the trade, written with the standard library only.

Nothing here knows XML, HTTP, the database or the clock: callers pass the time in and get values out.
"""
