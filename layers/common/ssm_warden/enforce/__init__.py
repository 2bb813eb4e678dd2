"""Enforcement: deciding actions (pure), sending them to the action queue, carrying them out."""
