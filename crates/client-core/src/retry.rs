//! Placeholder: the retry module lands in its own commit.
