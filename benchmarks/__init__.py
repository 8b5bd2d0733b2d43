"""Benchmarks that measure the shipped code (config.yml's Rasa pipeline, the knowledge-base engine) against
published results on public datasets; `python -m benchmarks` runs them and writes results/<dataset>-<kind>.md.

Importing this package loads no model and reads no file.
"""
