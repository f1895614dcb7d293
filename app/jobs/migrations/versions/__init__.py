"""One module per schema revision, oldest first; each says what it changes and how it treats existing rows."""
