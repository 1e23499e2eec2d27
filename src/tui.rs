//! The terminal workbench: state (`app`), keys (`keys`), transitions (`update`), rendering
//! (`ui`), pane content shared with `explain` (`content`), and the terminal loop (`runtime`).

pub mod app;
pub mod content;
pub mod keys;
pub mod runtime;
pub mod theme;
pub mod ui;
pub mod update;

pub use runtime::{Options, run};
