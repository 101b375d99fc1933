"""The spend-report recipe: where the money went, what was wasted, and days that spent too much."""
