"""Product reviews and helpful votes."""
