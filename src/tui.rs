//! The terminal workbench: state (`app`), keys (`keys`), transitions (`update`), rendering
//! (`ui`), the core explanation in the theme's styles (`content`), and the terminal loop (`runtime`).

pub mod app;
pub mod content;
pub mod keys;
pub mod runtime;
pub mod theme;
pub mod ui;
pub mod update;

pub use runtime::{Options, run};
