"""Developer and operations scripts (process supervisor, demo seeding)."""
