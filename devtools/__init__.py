"""Development tools: embedded services, the runner, demo data. Imported by no app."""
