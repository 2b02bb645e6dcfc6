"""Third-party model code kept in the project, each package with its source, version and licence."""
