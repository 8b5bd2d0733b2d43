"""Keepwell's Rasa SDK action server: thin actions over the knowledge base and the `keepwell` services."""
