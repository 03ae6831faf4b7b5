//! (helper: synth)
