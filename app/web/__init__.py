"""The web page for people: static files, no build step."""
