"""Turn a report's text into a structured incident: pure functions, no I/O."""
