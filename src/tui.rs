//! The terminal workbench: state (`app`), keys (`keys`), transitions (`update`), rendering
//! (`ui`, with `columns` and `scroll`), the explanation panes' content (`explained`) in the
//! theme's styles (`content`), `messages.txt` at each step (`messages`), the editor (`editor`)
//! and the terminal loop (`runtime`).

pub mod app;
pub mod columns;
pub mod content;
pub mod editor;
pub mod explained;
pub mod keys;
pub mod messages;
pub mod runtime;
pub mod scroll;
pub mod theme;
pub mod ui;
pub mod update;

pub use runtime::{Options, run};
