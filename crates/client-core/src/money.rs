//! Placeholder: the money module lands in its own commit.
