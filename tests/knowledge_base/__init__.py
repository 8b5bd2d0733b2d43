"""Tests for the knowledge_base package."""
