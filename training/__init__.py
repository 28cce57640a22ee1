"""Training, data conversion and evaluation for stance models (see README: Training)."""
