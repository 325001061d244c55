"""Experiment tracking: experiments and tests, logged artifacts, dependencies, promotion."""
