//! (helper: dump)
