"""The brain: spoken questions to checked SQL to short spoken answers."""
