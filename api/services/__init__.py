"""Gateway services: plain classes the routes call; they know HTTP clients and databases, not FastAPI."""
