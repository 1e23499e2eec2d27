//! User time, shared by the rules (which name zones and quiet hours) and the engine (which
//! decides in them): IANA zones and local calendar windows, and quiet hours.

pub mod quiet;
pub mod zone;
