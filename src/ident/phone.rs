//! (helper: ident)
