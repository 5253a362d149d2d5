"""Training: corpus building, datasets, the training loop and evaluation. Imports `model/` only."""
