"""Privacy: exporting conversations, erasing one customer everywhere, and deleting conversations past retention.

`scope` finds and deletes every row that belongs to a set of conversations or to one customer, by walking the
tables' metadata; `tracker` does the same in Rasa's tracker store; `erasure`, `retention` and `export` are the
three features on top.
"""
