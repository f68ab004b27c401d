//! Renderers: write to any `Write`, never print directly.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod prometheus;
pub mod sarif;
pub mod table;
