//! The core decided against a state and folded from its own commits.
