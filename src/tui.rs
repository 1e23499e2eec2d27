//! The terminal workbench: state (`app`), keys (`keys`), transitions (`update`), rendering
//! (`ui`), the explanation panes' content (`explained`) in the theme's styles (`content`),
//! `messages.txt` at each step (`messages`), the zone local times are shown in (`time`), and
//! the terminal loop (`runtime`).

pub mod app;
pub mod content;
pub mod explained;
pub mod keys;
pub mod messages;
pub mod runtime;
pub mod theme;
pub mod ui;
pub mod update;

pub use runtime::{Options, run};
