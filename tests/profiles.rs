//! Profile resolution edge cases.
