"""The model families: one folder each, discovered by hild.core.registry (no list to edit)."""
