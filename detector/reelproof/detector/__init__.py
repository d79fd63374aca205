"""reelproof.detector."""
