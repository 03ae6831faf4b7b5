//! (helper: filter)
