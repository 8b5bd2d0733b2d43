"""The conversation suite: multi-turn conversations as customers write them, played against the real system."""
