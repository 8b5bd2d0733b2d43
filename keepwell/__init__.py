"""Keepwell's customer-success domain: accounts, health scores, segments, offers, handoffs and feedback.

Both the gateway (`api`) and the action server (`actions`) depend on this package; it depends on neither.
"""
