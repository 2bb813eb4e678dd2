"""Commands out of terminal transcripts: terminal replay, prompts, shell continuation, extraction."""
