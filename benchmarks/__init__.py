"""Benchmark of the clinic assistant against Rasa's stock starter assistant (`make bench`)."""
