"""Grouping texts by meaning: threshold clustering on cosine similarity of unit vectors, the "fast clustering"
(community detection) of sentence-transformers' examples, in NumPy. Unlike k-means it needs no number of clusters,
and unlike single-linkage it does not chain loosely related questions: every member is within the threshold of its
cluster's centre. O(n^2) memory for n vectors, so callers cap n (2,000 vectors: a 16 MB matrix, ~50 ms)."""

import numpy as np

# Cosine similarity at which two customer questions count as the same question. With all-MiniLM-L6-v2 paraphrases
# score 0.7-0.9 ("how do I export my boards to Parquet" / "Parquet export of boards?" 0.88), neighbouring questions
# 0.6 ("... to CSV" vs "... to Parquet" 0.63): they need different answers, so they stay apart.
SIMILARITY = 0.65


def cluster(vectors: np.ndarray, threshold: float = SIMILARITY) -> list[list[int]]:
    """Row indices of `vectors` (unit-length rows) grouped by meaning, largest group first, each group's most
    central row first (its highest mean similarity to the group) and the rest in their input order.

    The row with the most neighbours (similarity >= threshold) still unassigned founds a group of those neighbours;
    repeated until every row has a group (a question alike to no other is a group of one). Ties go to the earlier
    row, so the result is deterministic.
    """
    count = len(vectors)
    if count == 0:
        return []
    similarity = vectors @ vectors.T
    near = similarity >= threshold
    np.fill_diagonal(near, True)
    free = np.ones(count, dtype=bool)
    # Unassigned neighbours per row, kept up to date as groups take rows (O(n^2) in all, not per group).
    degrees = near.sum(axis=1).astype(np.int64)
    groups: list[list[int]] = []
    while free.any():
        founder = int(np.argmax(np.where(free, degrees, -1)))  # argmax returns the first of equals
        members = np.flatnonzero(near[founder] & free)
        free[members] = False
        degrees -= near[:, members].sum(axis=1)
        centrality = similarity[np.ix_(members, members)].mean(axis=1)
        centre = int(members[int(np.argmax(centrality))])
        groups.append([centre, *(int(m) for m in members if m != centre)])
    groups.sort(key=lambda group: (-len(group), min(group)))
    return groups
