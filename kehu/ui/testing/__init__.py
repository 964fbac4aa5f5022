"""Test helpers that use every app (the stored-XSS seed): they live above core, which imports no business app."""
