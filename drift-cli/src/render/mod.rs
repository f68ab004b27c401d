//! Renderers: write to any `Write`, never print directly.

pub mod json;
pub mod table;
