"""Runs Keepwell (gateway, Rasa, action server) under supervisord: `python -m launcher`, what `make run` calls.

Kept free of imports: `launcher.rasa_server` runs in Rasa's Python 3.10 environment and imports this package first.
"""
