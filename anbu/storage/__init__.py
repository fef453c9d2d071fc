"""Storage: versioned SQL migrations and the SQL that reads and writes anbu's tables.

All SQL lives in this package; the rest of anbu calls these functions with plain values.
"""
