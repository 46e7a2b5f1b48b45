"""District configuration plugins shipped with Concilia (Isola-Garibaldi, Milan)."""
